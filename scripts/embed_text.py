#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Build step: embeds a text file in C++ as `extern const char* const NAME`.
An array of bytes, not a string literal: compilers need only support
literals up to 65536 characters (clang warns past that), and the OpenAPI
document is longer.
usage: embed_text.py INPUT OUTPUT.cpp NAMESPACE NAME"""
import sys

src, out, namespace, name = sys.argv[1:5]
data = open(src, "rb").read()
data.decode("utf-8")  # refuse a file that is not UTF-8 text
assert b"\0" not in data, "a NUL byte would end the embedded text early"
with open(out, "w", encoding="utf-8") as f:
    f.write(f"// Generated from {src.rsplit('/', 1)[-1]} by scripts/embed_text.py; do not edit.\n")
    f.write(f"namespace {namespace} {{\nnamespace {{\nconst char kBytes[] = {{\n")
    for i in range(0, len(data), 24):
        f.write(",".join(str(b if b < 128 else b - 256) for b in data[i:i + 24]) + ",\n")
    f.write("0};\n}  // namespace\n")
    f.write(f"extern const char* const {name};\nconst char* const {name} = kBytes;\n}}\n")
