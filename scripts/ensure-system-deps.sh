#!/usr/bin/env bash
# Installs the Debian packages the tests need (a real Chromium for the browser tests, GStreamer's RTSP server
# for a real camera on loopback, Mosquitto for a real MQTT broker on loopback, nats-server for the cluster's broker
# on loopback, PyTorch for the lab's CNN training script), when they are missing. Fails with a clear message when it cannot.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Charts and snapshots draw text with a system font.
fc-list 2>/dev/null | grep -qi "DejaVu Sans" || need+=(fonts-dejavu-core fontconfig)
if ! /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' >/dev/null 2>&1 \
  || ! command -v gst-inspect-1.0 >/dev/null 2>&1 \
  || ! gst-inspect-1.0 x264enc >/dev/null 2>&1 || ! gst-inspect-1.0 vp8enc >/dev/null 2>&1; then
  need+=(gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-tools
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad)
fi
# The MQTT tests start their own broker (never the system service) and read it with mosquitto_sub.
if ! command -v mosquitto >/dev/null 2>&1 && ! [ -x /usr/sbin/mosquitto ]; then need+=(mosquitto); fi
command -v mosquitto_sub >/dev/null 2>&1 || need+=(mosquitto-clients)
# The cluster tests start their own nats-server with JetStream (never the system service).
[ -x /usr/sbin/nats-server ] || need+=(nats-server)
# src/lab/cnn: training, plots and ONNX export on Debian's PyTorch.
if ! /usr/bin/python3 -c 'import torch, PIL, matplotlib, onnx' >/dev/null 2>&1; then
  need+=(python3-torch python3-pil python3-matplotlib python3-onnx)
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "ensure-system-deps: installing ${need[*]}" >&2
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-deps: the tests need these Debian packages: ${need[*]}. Install them as root (apt-get install) and run the tests again." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
  echo "ensure-system-deps: apt-get could not install ${need[*]}; the media, browser, MQTT and cluster tests cannot run without them." >&2
  exit 1
fi
