"""WeChat's XML read safely: size-limited, no DTDs, no entities, nothing external.

wechatpy parses with xmltodict (expat), which would expand internal entities; every body and every
decrypted message goes through defusedxml first, so hostile XML is rejected before wechatpy sees it.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class UnsafeXML(ValueError):
    """XML that is malformed, too large, or uses DTDs or entities."""


def read_xml(data: bytes | str, max_bytes: int) -> Element:
    """The root element of a WeChat message, or `UnsafeXML`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise UnsafeXML(f"XML body larger than {max_bytes} bytes")
    try:
        root: Element = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXML(f"forbidden XML construct: {exc!r}") from exc
    except (ParseError, ValueError) as exc:
        raise UnsafeXML(f"malformed XML: {exc}") from exc
    if root.tag != "xml":
        raise UnsafeXML(f"root element is <{root.tag}>, not <xml>")
    return root


def field(root: Element, name: str) -> str:
    return (root.findtext(name) or "").strip()
