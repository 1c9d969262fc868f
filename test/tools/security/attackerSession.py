"""One helper session as the README's sudo rule runs it, for the security tests: run by an unprivileged user,
it listens on a private socket as the extension does (a 0700 directory of its own in /tmp, probe.sock 0600),
starts `sudo -n python3 -I -S HELPER run ... --socket SOCKET`, and prints every record the helper sends as it
arrives (one JSON line each), then {"end": {"code": exit code, "stderr": its stderr}}.

    python3 attackerSession.py HELPER [--stop-after-attached SECONDS] [--stop-file PATH] -- HELPER-ARGS...

--stop-after-attached: SIGINT the helper that many seconds after it reports "attached".
--stop-file: SIGINT it once that file exists (the test creates it when it has done its part).
SIGTERM to this script: SIGINT the helper (sudo relays it), then finish as usual.
"""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time


def main(argv):
    split = argv.index('--')
    options, helper_args = argv[:split], argv[split + 1:]
    helper = options[0]
    stop_after = float(options[options.index('--stop-after-attached') + 1]) if '--stop-after-attached' in options else None
    stop_file = options[options.index('--stop-file') + 1] if '--stop-file' in options else None
    directory = tempfile.mkdtemp(prefix='bitcoin-usdt-attacker-')
    path = os.path.join(directory, 'probe.sock')
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(8)
    proc = subprocess.Popen(['sudo', '-n', '--', '/usr/bin/python3', '-I', '-S', helper, 'run'] + helper_args +
                            ['--socket', path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    stderr = b''
    # The helper's first connection carries its records; each later one a probe run's output, announced by a
    # data_channel line (src/core/probeSession/helperStream.ts). Records are printed as they arrive.
    connections = {}  # socket -> bytes not yet split into lines
    control = None
    attached_at = None
    stop_sent = False
    terminated = []
    signal.signal(signal.SIGTERM, lambda *_: terminated.append(True))
    while True:
        if proc.poll() is not None and not connections:
            break
        if not stop_sent and ((attached_at and stop_after is not None and time.monotonic() - attached_at > stop_after)
                              or (stop_file and os.path.exists(stop_file)) or terminated):
            proc.send_signal(signal.SIGINT)
            stop_sent = True
        watched = [proc.stderr, listener] + list(connections)
        ready = select.select(watched, [], [], 0.1)[0]
        if proc.stderr in ready:
            chunk = os.read(proc.stderr.fileno(), 65536)
            stderr += chunk
            if not chunk and not connections and control is None:
                break
        if listener in ready:
            accepted, _ = listener.accept()
            connections[accepted] = b''
            if control is None:
                control = accepted
        for connection in [c for c in connections if c in ready]:
            chunk = connection.recv(65536)
            if not chunk:
                connection.close()
                del connections[connection]
                continue
            *lines, connections[connection] = (connections[connection] + chunk).split(b'\n')
            for line in filter(None, lines):
                record = json.loads(line)
                if record.get('type') == 'helper' and record['data'].get('event') == 'data_channel':
                    continue
                print(json.dumps(record), flush=True)
                if record.get('type') == 'helper' and record['data'].get('event') == 'attached' and attached_at is None:
                    attached_at = time.monotonic()
        if control is not None and not connections:
            break
    stderr += proc.stderr.read()
    code = proc.wait()
    os.unlink(path)
    os.rmdir(directory)
    print(json.dumps({'end': {'code': code, 'stderr': stderr.decode('utf-8', 'replace')}}), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
