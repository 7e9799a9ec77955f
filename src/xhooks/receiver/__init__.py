"""The HTTP edge of a consumer: CRC answers and durable, verified intake of X's deliveries."""

from xhooks.receiver.app import Receiver
from xhooks.receiver.config import AppConfig
from xhooks.receiver.server import ServeConfig, build_server, listen_socket, server_config

__all__ = ["AppConfig", "Receiver", "ServeConfig", "build_server", "listen_socket", "server_config"]
