"""X's webhook wire rules as pure functions: no I/O, no clock, no environment.

The receiver and the emulator both drive these functions, so there is one implementation of the
signature, the CRC and the dedup keys.
"""

from xhooks.protocol.crc import CrcRequest, check_crc_token, crc_request, crc_response, crc_token_from_query
from xhooks.protocol.envelope import Envelope, EventRef, Shape, parse_envelope
from xhooks.protocol.signature import signature, verify

__all__ = [
    "CrcRequest",
    "Envelope",
    "EventRef",
    "Shape",
    "check_crc_token",
    "crc_request",
    "crc_response",
    "crc_token_from_query",
    "parse_envelope",
    "signature",
    "verify",
]
