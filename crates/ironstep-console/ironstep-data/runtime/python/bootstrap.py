# ironstep's Python runtime: the Lambda Runtime API loop, written for ironstep (embedded in the
# ironstep-functions crate and run as `python3 -u bootstrap.py` with Lambda's environment).
# It imports `_HANDLER` (`module.function`, `dir/module.function`) from LAMBDA_TASK_ROOT, passes
# Lambda's context object, and reports errors as the Python runtime does
# (`{"errorMessage", "errorType", "requestId", "stackTrace"}`, serialized by json.dumps).

import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback
import decimal

HOST, _, PORT = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001").partition(":")
BASE = "/2018-06-01/runtime"
_conn = None


def _request(method, path, body=None, headers=None):
    """One request on a kept-alive connection, reconnecting once if it was closed."""
    global _conn
    for attempt in (0, 1):
        if _conn is None:
            _conn = http.client.HTTPConnection(HOST, int(PORT))
        try:
            _conn.request(method, BASE + path, body=body, headers=headers or {})
            resp = _conn.getresponse()
            return resp.status, resp.headers, resp.read()
        except (http.client.HTTPException, ConnectionError):
            _conn.close()
            _conn = None
            if attempt:
                raise


def _post(path, payload, error_type=None):
    body = payload if isinstance(payload, bytes) else payload.encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if error_type:
        headers["Lambda-Runtime-Function-Error-Type"] = error_type
    return _request("POST", path, body, headers)


def _decimal(o):
    if isinstance(o, decimal.Decimal):
        return float(o) if o % 1 else int(o)
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _to_json(obj):
    return json.dumps(obj, default=_decimal)


class FaultException(Exception):
    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace or []


def _user_frames(tb):
    """The traceback without this bootstrap's own frames, as Lambda's runtime shows it."""
    frames = traceback.extract_tb(tb)
    me = os.path.abspath(__file__)
    return traceback.format_list([f for f in frames if os.path.abspath(f.filename) != me])


def _error_payload(exc, request_id):
    if isinstance(exc, FaultException):
        return {"errorMessage": exc.msg, "errorType": exc.exception_type, "requestId": request_id, "stackTrace": exc.trace}
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": _user_frames(exc.__traceback__),
    }


def _load_handler():
    handler = os.environ.get("_HANDLER", "")
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError:
        raise FaultException("Runtime.MalformedHandlerName", f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)")
    modname = modname.replace("/", ".")
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException("Runtime.BuiltInModuleConflict", f"Cannot use built-in module {modname} as a handler module")
        module = importlib.import_module(modname)
    except FaultException:
        raise
    except ImportError as e:
        raise FaultException("Runtime.ImportModuleError", f"Unable to import module '{modname}': {e}")
    except SyntaxError as e:
        trace = [f'  File "{e.filename}" Line {e.lineno}\n', f"    {e.text}"]
        raise FaultException("Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {e}", trace)
    except Exception as e:
        raise FaultException(type(e).__name__, str(e), _user_frames(e.__traceback__))
    fn = getattr(module, fname, None)
    if fn is None:
        raise FaultException("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'")
    return fn


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext:
    __slots__ = ["custom", "env", "client"]


class LambdaContext:
    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)
        self.identity = CognitoIdentity()
        ident = _parse(headers.get("Lambda-Runtime-Cognito-Identity"))
        self.identity.cognito_identity_id = ident.get("cognitoIdentityId")
        self.identity.cognito_identity_pool_id = ident.get("cognitoIdentityPoolId")
        cc = _parse(headers.get("Lambda-Runtime-Client-Context"))
        self.client_context = None
        if cc:
            self.client_context = ClientContext()
            self.client_context.custom = cc.get("custom")
            self.client_context.env = cc.get("env")
            client = cc.get("client")
            self.client_context.client = None
            if client:
                c = Client()
                c.installation_id = client.get("installation_id")
                c.app_title = client.get("app_title")
                c.app_version_name = client.get("app_version_name")
                c.app_version_code = client.get("app_version_code")
                c.app_package_name = client.get("app_package_name")
                self.client_context.client = c

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))


def _parse(value):
    if not value:
        return {}
    try:
        v = json.loads(value)
        return v if isinstance(v, dict) else {}
    except ValueError:
        return {}


_request_id = ""


class _LambdaLogFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id
        return True


def _setup_logging():
    """The root logger of Lambda's Python runtime: `[LEVEL]\\t<time>\\t<request id>\\t<message>`."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S")
    )
    handler.formatter.converter = time.gmtime
    handler.addFilter(_LambdaLogFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.WARNING)


def _log_error(payload):
    lines = [f"[ERROR] {payload['errorType']}: {payload['errorMessage']}"]
    if payload.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(s.rstrip("\n") for s in payload["stackTrace"])
    sys.stdout.write("\r".join(lines) + "\n")


def main():
    global _request_id
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    _setup_logging()
    try:
        handler = _load_handler()
    except FaultException as e:
        payload = _error_payload(e, "")
        _log_error(payload)
        _post("/init/error", _to_json(payload), e.exception_type)
        sys.exit(1)
    except Exception as e:
        payload = _error_payload(e, "")
        _log_error(payload)
        _post("/init/error", _to_json(payload), payload["errorType"])
        sys.exit(1)

    while True:
        status, headers, body = _request("GET", "/invocation/next")
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        _request_id = request_id
        trace = headers.get("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        try:
            event = json.loads(body) if body else None
            context = LambdaContext(headers)
            result = handler(event, context)
            # Lambda's Python runtime passes bytes through as the raw response (recorded: a
            # handler returning b'"HelloWorld!"' yields the JSON string "HelloWorld!").
            out = bytes(result) if isinstance(result, (bytes, bytearray)) else _to_json(result)
        except Exception as e:
            payload = _error_payload(e, request_id)
            _log_error(payload)
            _post(f"/invocation/{request_id}/error", _to_json(payload), payload["errorType"])
            continue
        code, _, reply = _post(f"/invocation/{request_id}/response", out)
        if code == 413:
            sys.stdout.write(f"[ERROR] Failed to post handler success response. Http response code: 413. {reply.decode('utf-8', 'replace')}\n")


if __name__ == "__main__":
    main()
