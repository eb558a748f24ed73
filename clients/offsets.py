"""Converting editor offsets to the contract's unit (Unicode code points) and back.

VS Code counts UTF-16 code units, Neovim counts bytes of UTF-8. An offset that falls inside a character
(between the two halves of a surrogate pair, or inside a multi-byte UTF-8 sequence) is an error, never
rounded: an edit there would split the character.
"""

from __future__ import annotations

from pushkin.proto.textedit import EditError


def utf16_to_code_points(text: str, offset: int) -> int:
    if offset < 0:
        raise EditError(f"negative UTF-16 offset {offset}")
    units = 0
    for index, char in enumerate(text):
        if units == offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
        if units > offset:
            raise EditError(f"UTF-16 offset {offset} splits the character {char!r} at code point {index}")
    if units == offset:
        return len(text)
    raise EditError(f"UTF-16 offset {offset} is past the end of the text ({units} UTF-16 units)")


def code_points_to_utf16(text: str, offset: int) -> int:
    if not 0 <= offset <= len(text):
        raise EditError(f"offset {offset} is outside the text ({len(text)} code points)")
    return offset + sum(1 for char in text[:offset] if ord(char) > 0xFFFF)


def utf8_to_code_points(text: str, offset: int) -> int:
    encoded = text.encode("utf-8")
    if not 0 <= offset <= len(encoded):
        raise EditError(f"byte offset {offset} is outside the text ({len(encoded)} bytes)")
    if offset < len(encoded) and (encoded[offset] & 0xC0) == 0x80:
        raise EditError(f"byte offset {offset} splits a UTF-8 character")
    return len(encoded[:offset].decode("utf-8"))


def code_points_to_utf8(text: str, offset: int) -> int:
    if not 0 <= offset <= len(text):
        raise EditError(f"offset {offset} is outside the text ({len(text)} code points)")
    return len(text[:offset].encode("utf-8"))
