# Doxygen input filter (docs/Doxyfile.in): shows the headers' plain `//` comments to doxygen as
# documentation without changing the headers. Run as `sed -E -f doxygen_filter.sed FILE`.

# The opening comment, up to `#pragma once`, describes the file.
1 s#^// ?(.*)$#/// @file\n/// \1#
0,/^#pragma once/ s#^//([^/]|$)#///\1#

# A whole-line comment documents the declaration below it.
s#^([[:space:]]*)//([^/]|$)#\1///\2#

# A trailing comment after a declaration (or a one-line inline function) documents it; a
# comment after a lone closing brace (`}  // namespace nn`) stays a plain comment.
/^[[:space:]]*}/! s#^(([^/]|/[^/])*[;{}])([[:space:]]+)//[[:space:]]?(.*)$#\1\3///< \4#

# `<name>` in a comment is text ("<parameter>.<buffer>", dtype "<f4"), not an HTML tag.
/^[[:space:]]*\/\/\/([^<]|$)/ s#<([A-Za-z_])#\\<\1#g
:trailing
s#(///<.*[^\\])<([A-Za-z_])#\1\\<\2#
t trailing
