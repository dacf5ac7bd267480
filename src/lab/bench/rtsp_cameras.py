#!/usr/bin/python3
"""RTSP cameras for benchmarks: GStreamer's RTSP server on loopback, one mount per H264 file, played in real time.

Usage: /usr/bin/python3 rtsp_cameras.py PORT NAME=FILE.mp4 [NAME=FILE.mp4 ...]

Each client of /NAME gets its own pipeline from the start of FILE (demuxed and packetised, not re-encoded, so the
cameras cost little CPU). Prints "READY <port>" once listening; exits on SIGTERM/SIGINT. Needs Debian's python3-gi and
gir1.2-gst-rtsp-server-1.0 (run with /usr/bin/python3).
"""
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    port = int(sys.argv[1])
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    mounts = server.get_mount_points()
    for spec in sys.argv[2:]:
        name, path = spec.split("=", 1)
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(
            f'( filesrc location="{path}" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )'
        )
        factory.set_shared(False)
        mounts.add_factory(f"/{name}", factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{port}", file=sys.stderr, flush=True)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"READY {port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
