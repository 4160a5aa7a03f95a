"""A webhook callback receiver for the survey dispatch benchmark: answers 200 to every POST
and prints, once a second, how many it has received and when the first and last arrived."""
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
count = 0
first = last = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global count, first, last
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        now = time.time()
        with lock:
            count += 1
            first = first or now
            last = now
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def report():
    while True:
        time.sleep(1)
        with lock:
            if first:
                print(f"{time.strftime('%H:%M:%S')} received={count} "
                      f"first={first:.3f} last={last:.3f} span={last - first:.2f}s", flush=True)


threading.Thread(target=report, daemon=True).start()
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
