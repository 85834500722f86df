// SPDX-License-Identifier: BSD-3-Clause
// The OpenAPI 3 description of meshctld's REST API: controlplane/api/openapi.json,
// kept in the repository and embedded at build time (served at /openapi.json).
// A unit test checks that it lists exactly the routes the server serves.
#pragma once

namespace meshgw::api {
extern const char* const kOpenApiDocument;
}
