#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Build step: embeds a text file in C++ as `extern const char* const NAME`.
usage: embed_text.py INPUT OUTPUT.cpp NAMESPACE NAME"""
import sys

src, out, namespace, name = sys.argv[1:5]
text = open(src, encoding="utf-8").read()
delimiter = "meshgw_embed"
assert ")" + delimiter + '"' not in text, "pick another raw-string delimiter"
with open(out, "w", encoding="utf-8") as f:
    f.write(f"// Generated from {src.rsplit('/', 1)[-1]} by scripts/embed_text.py; do not edit.\n")
    f.write(f"namespace {namespace} {{\nextern const char* const {name};\n")
    f.write(f'const char* const {name} = R"{delimiter}({text}){delimiter}";\n}}\n')
