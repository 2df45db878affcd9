"""Kubernetes API errors as metav1.Status, with the reasons and message
formats of k8s.io/apimachinery/pkg/api/errors."""


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.status_metadata = {}
        self.headers = {}

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": dict(self.status_metadata),
             "status": "Failure", "message": self.message}
        if self.reason:
            s["reason"] = self.reason
        if self.details is not None:
            s["details"] = self.details
        s["code"] = self.code
        return s

    # constructors named after apimachinery's errors.NewXxx ------------------
    @classmethod
    def not_found(cls, gr, name, group="", kind=None):
        d = {"name": name, "kind": kind or gr.split(".")[0]}
        if group:
            d["group"] = group
        return cls(404, "NotFound", f'{gr} "{name}" not found', d)

    @classmethod
    def not_found_path(cls):
        return cls(404, "NotFound", "the server could not find the requested resource", {})

    @classmethod
    def already_exists(cls, gr, name, group="", kind=None):
        d = {"name": name, "kind": kind or gr.split(".")[0]}
        if group:
            d["group"] = group
        return cls(409, "AlreadyExists", f'{gr} "{name}" already exists', d)

    @classmethod
    def conflict(cls, gr, name, msg, group="", kind=None):
        d = {"name": name, "kind": kind or gr.split(".")[0]}
        if group:
            d["group"] = group
        return cls(409, "Conflict", f'Operation cannot be fulfilled on {gr} "{name}": {msg}', d)

    @classmethod
    def invalid(cls, kind, group, name, causes):
        """causes: [(field, type, message)] — type as in field.ErrorType, e.g.
        FieldValueRequired; message already formatted like field.Error.Error()."""
        qual = f"{kind}.{group}" if group else kind
        msgs = [c[2] for c in causes]
        agg = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
        d = {"name": name, "kind": kind,
             "causes": [{"reason": t, "message": m.split(": ", 1)[1] if ": " in m else m, "field": f}
                        for f, t, m in causes]}
        if group:
            d["group"] = group
        return cls(422, "Invalid", f'{qual} "{name}" is invalid: {agg}', d)

    @classmethod
    def bad_request(cls, msg):
        return cls(400, "BadRequest", msg)

    @classmethod
    def method_not_supported(cls, gr, action):
        return cls(405, "MethodNotAllowed", f"{action} is not supported on resources of kind \"{gr}\"",
                   {"group": "", "kind": gr})

    @classmethod
    def forbidden(cls, gr, name, msg, group="", kind=None):
        d = {"name": name, "kind": kind or gr.split(".")[0]}
        if group:
            d["group"] = group
        what = f'{gr} "{name}"' if name else gr
        return cls(403, "Forbidden", f"{what} is forbidden: {msg}", d)

    @classmethod
    def internal(cls, msg):
        # a plain Go error reaching the handler: code 500 and no reason
        return cls(500, "", msg)


def required(path):
    return (path, "FieldValueRequired", f"{path}: Required value")


def invalid_value(path, value, detail):
    return (path, "FieldValueInvalid", f"{path}: Invalid value: {go_repr(value)}: {detail}")


def unsupported(path, value, allowed):
    allowed = ", ".join(f'"{a}"' for a in allowed)
    return (path, "FieldValueNotSupported", f'{path}: Unsupported value: {go_repr(value)}: supported values: {allowed}')


def forbidden_field(path, detail):
    return (path, "FieldValueForbidden", f"{path}: Forbidden: {detail}")


def duplicate(path, value):
    return (path, "FieldValueDuplicate", f"{path}: Duplicate value: {go_repr(value)}")


def go_repr(v):
    """How field.Error prints a value (%#v-ish for the common cases)."""
    if isinstance(v, str):
        return '"' + v.replace('"', '\\"') + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)
