"""Hostile Word files for measuring the upload limits: small files that expand to a great
deal of work (`wbqa bench`-style figures in `evals.upload_load`, and the tests).

- `paragraphs_bomb`: a DOCX whose document.xml holds millions of empty paragraphs
  (about 80 KB on disk, 31 MB of XML, 5.2 million `<w:p/>`);
- `whitespace_bomb`: a DOCX whose document.xml is 900 MB of spaces (under 1 MB on disk).
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib

WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DOCUMENT_XML = "word/document.xml"
_HEAD = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{WORD_NS}">'
_BLOCK = 1 << 20


def plain_docx(text: str = "Serbia ordered 12 Rafale fighters from Dassault.") -> bytes:
    """An ordinary one-paragraph Word file, written by python-docx."""
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def paragraphs_bomb(paragraphs: int = 5_200_000) -> bytes:
    """A DOCX whose body is `paragraphs` empty paragraphs."""
    body = b"<w:p/>" * paragraphs
    xml = _HEAD.encode() + b"<w:body>" + body + b"</w:body></w:document>"
    return _replace_document(zlib.compress(xml, 9)[2:-4], zlib.crc32(xml), len(xml))


def whitespace_bomb(megabytes: int = 900) -> bytes:
    """A DOCX whose one paragraph's text is `megabytes` MB of spaces."""
    head = (_HEAD + "<w:body><w:p><w:r><w:t>").encode()
    tail = b"x</w:t></w:r></w:p></w:body></w:document>"
    # Deflating 900 MB takes zlib 15-20 s; the same megabyte of spaces compressed once,
    # full-flushed (so no block refers to an earlier one) and repeated, is the same stream.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(b" " * _BLOCK) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = compressor.compress(tail) + compressor.flush()
    crc = zlib.crc32(head)
    spaces = b" " * _BLOCK
    for _ in range(megabytes):
        crc = zlib.crc32(spaces, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + megabytes * _BLOCK + len(tail)
    return _replace_document(first + block * megabytes + last, crc, size)


def _replace_document(deflated: bytes, crc: int, size: int) -> bytes:
    """A copy of `plain_docx()` whose document.xml is the given raw deflate stream.

    Written member by member here because `zipfile` can only compress what it writes, and
    the point is a stream that would take long to compress.
    """
    source = zipfile.ZipFile(io.BytesIO(plain_docx()))
    members = []
    for info in source.infolist():
        if info.filename == DOCUMENT_XML:
            members.append((DOCUMENT_XML, crc, size, deflated))
        else:
            data = source.read(info.filename)
            packed = zlib.compressobj(9, zlib.DEFLATED, -15)
            members.append(
                (info.filename, zlib.crc32(data), len(data), packed.compress(data) + packed.flush())
            )
    return _zip(members)


def _zip(members: list[tuple[str, int, int, bytes]]) -> bytes:
    """A zip of deflated members (name, crc32, size, raw deflate data); sizes under 4 GB."""
    stamp = time.localtime()
    dos_time = (stamp.tm_hour << 11) | (stamp.tm_min << 5) | (stamp.tm_sec // 2)
    dos_date = ((stamp.tm_year - 1980) << 9) | (stamp.tm_mon << 5) | stamp.tm_mday
    out, central = io.BytesIO(), io.BytesIO()
    for name, crc, size, data in members:
        encoded = name.encode()
        offset = out.tell()
        fields = (20, 0, 8, dos_time, dos_date, crc, len(data), size, len(encoded))
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + encoded + data)
        central.write(
            struct.pack("<IH", 0x02014B50, 20)
            + struct.pack("<HHHHHIIIHHHHHII", *fields, 0, 0, 0, 0, 0, offset)
            + encoded
        )
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    count = len(members)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), start, 0))
    return out.getvalue()
