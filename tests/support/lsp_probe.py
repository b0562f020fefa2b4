"""Drives a real YAML language server over LSP (stdio) on one file and prints
what an editor would show, as JSON: the completion labels at a position and
the diagnostics published for the file.

usage: lsp_probe.py SERVER_JS FILE LINE CHARACTER
"""
import json, os, subprocess, sys, threading, time, queue

server, path, line, char = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
uri = "file://" + path
text = open(path).read()
proc = subprocess.Popen(["node", server, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL)
inbox = queue.Queue()

def reader():
    f = proc.stdout
    while True:
        headers = {}
        while True:
            l = f.readline()
            if not l:
                return
            l = l.decode().strip()
            if not l:
                break
            k, v = l.split(":", 1)
            headers[k.lower()] = v.strip()
        body = f.read(int(headers["content-length"]))
        inbox.put(json.loads(body))

threading.Thread(target=reader, daemon=True).start()
next_id = [0]

def send(msg):
    data = json.dumps(msg).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
    proc.stdin.flush()

def request(method, params):
    next_id[0] += 1
    send({"jsonrpc": "2.0", "id": next_id[0], "method": method, "params": params})
    return next_id[0]

settings = {"yaml": {"validate": True, "completion": True, "hover": True, "schemaStore": {"enable": False}}}
diagnostics, completion = None, None

def pump(until, timeout):
    """Handles messages until until() is true or the timeout passes."""
    global diagnostics, completion
    end = time.time() + timeout
    while time.time() < end and not until():
        try:
            m = inbox.get(timeout=0.2)
        except queue.Empty:
            continue
        if m.get("method") == "workspace/configuration":
            send({"jsonrpc": "2.0", "id": m["id"], "result": [settings["yaml"]] * len(m["params"]["items"])})
        elif "id" in m and "method" in m:
            send({"jsonrpc": "2.0", "id": m["id"], "result": None})
        elif m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
            diagnostics = m["params"]["diagnostics"]
        elif m.get("id") == completion_id:
            completion = m.get("result")
        elif m.get("id") == init_id:
            inbox_init.append(m)

inbox_init = []
completion_id = -1
init_id = request("initialize", {"processId": os.getpid(), "rootUri": "file://" + os.path.dirname(path),
                                 "capabilities": {"textDocument": {"completion": {"completionItem": {"snippetSupport": False}}},
                                                  "workspace": {"configuration": True}}})
pump(lambda: inbox_init, 30)
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
send({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": settings}})
send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}})
pump(lambda: diagnostics is not None, 30)
completion_id = request("textDocument/completion", {"textDocument": {"uri": uri}, "position": {"line": line, "character": char}})
pump(lambda: completion is not None, 30)
items = completion.get("items", completion) if isinstance(completion, dict) else (completion or [])
print(json.dumps({
    "completion": sorted({i["label"] for i in items}),
    "diagnostics": [{"line": d["range"]["start"]["line"], "message": d["message"]} for d in (diagnostics or [])],
}))
proc.kill()
