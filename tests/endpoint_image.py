"""A stand-in for an Inference Endpoint's container image in the Hub test server's tests:
`python endpoint_image.py MODEL_DIR --host H --port P` prints its URL, then answers any GET
(`/health`, `/info`) with the folder it serves and its pid, and `POST /` with the label in the
folder's `label.txt`, as text classification answers (`[[{"label", "score"}]]`)."""

from __future__ import annotations

import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    label = (args.model_dir / "label.txt").read_text().strip()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._send({"model": str(args.model_dir), "label": label, "pid": os.getpid()})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._send([[{"label": label, "score": 1.0}]])

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
