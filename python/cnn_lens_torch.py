"""CNN Lens helper: a PyTorch model class in a Python file -> its modules, shapes and an ONNX export.

Requests are JSON lines on stdin, one answer (one JSON line) each on stdout, so that one process can stay
warm between analyses; the user's modules are reloaded for every request. Anything the user's code prints
goes to stderr. Nothing here writes into the user's folders (no bytecode caches either).

Request:  {"id", "file", "class", "input"?, "args"?, "roots"?, "onnx"?}  or  {"id", "op": "probe"}
Answer:   {"id", "ok", "modules", "calls", "parameters", "buffers", "onnx", "notes", "error", ...}
The TypeScript side (src/python/protocol.ts) documents every field.
"""

import ast
import importlib.util
import inspect
import json
import os
import re
import sys
import time
import traceback
import warnings

HERE = os.path.realpath(__file__)
DEFAULT_INPUT = [1, 3, 224, 224]
COMMENT = re.compile(r"#\s*cnn-lens:\s*(.*)$")
# What user code may raise; KeyboardInterrupt is the runner cancelling, answered as such.
USER_ERRORS = (Exception, SystemExit)
INSTALL_HINT = (
    "pip install torch onnx (a smaller, CPU-only torch: "
    "pip install torch --index-url https://download.pytorch.org/whl/cpu)"
)

# Imported on the first request, so that a Python without torch still answers (with kind "no-torch").
torch = None
nn = None
# Folders of model files put on sys.path, in any request: their modules are reloaded for every request.
MODEL_FOLDERS = []


class Failure(Exception):
    """An error to answer with: its kind and where it happened in the user's files."""

    def __init__(self, kind, message, file=None, line=None, module=None):
        super().__init__(message)
        self.kind, self.file, self.line, self.module = kind, file, line, module


class UserFiles:
    """Which source files are the user's: under one of the roots, outside any installed package."""

    def __init__(self, roots):
        self.roots = [os.path.realpath(r) for r in roots]
        # Python's own library, wherever the roots are (a home folder holds ~/.pyenv, say).
        self.installed = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
        self.cache = {}

    def __contains__(self, filename):
        hit = self.cache.get(filename)
        if hit is None:
            path = os.path.realpath(filename) if os.path.isabs(filename) else None
            parts = set(path.split(os.sep)) if path else set()
            hit = (
                path is not None
                and path != HERE
                and not parts & {"site-packages", "dist-packages"}
                and any(under(path, r) for r in self.roots)
                and not any(under(path, p) for p in self.installed)
            )
            self.cache[filename] = hit
        return hit

    def frame_site(self, frame):
        """The innermost of `frame` and its callers that runs a user file, as {file, line}."""
        while frame is not None:
            if frame.f_code.co_filename in self:
                return {"file": os.path.realpath(frame.f_code.co_filename), "line": frame.f_lineno}
            frame = frame.f_back
        return None

    def traceback_site(self, tb):
        """The innermost traceback entry in a user file, as (file, line)."""
        site = (None, None)
        for entry in traceback.extract_tb(tb):
            if entry.filename in self:
                site = (os.path.realpath(entry.filename), entry.lineno)
        return site


def under(path, folder):
    """Whether `path` is `folder` or inside it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def load_torch():
    """Imports torch once; a Failure of kind 'no-torch' says what to install where."""
    global torch, nn
    if torch is None:
        try:
            import torch as t
            import torch.nn as tnn
        except ImportError as e:
            raise Failure("no-torch", f"{sys.executable} cannot import torch ({e}); install it: {INSTALL_HINT}")
        # torch.onnx.export (TorchScript too) imports onnx to write the file.
        if importlib.util.find_spec("onnx") is None:
            raise Failure(
                "no-torch", f"{sys.executable} has torch but not onnx, which its export needs: pip install onnx"
            )
        torch, nn = t, tnn
        ConstructionSites.install()


def versions():
    """Python's and torch's versions."""
    return {"python": sys.version.split()[0], "torch": torch.__version__ if torch else None}


class ClassSpec:
    """The class's definition line and what its `# cnn-lens:` comment gives (input, args), from the AST."""

    def __init__(self, file, name):
        with open(file, encoding="utf-8") as f:
            source = f.read()
        try:
            tree = ast.parse(source, filename=file)
        except SyntaxError as e:
            raise Failure("syntax", f"SyntaxError: {e.msg}", e.filename or file, e.lineno)
        node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
        self.line = node.lineno if node else None
        self.input, self.args, self.comment_line = None, None, None
        if node:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            self._read_comment(source.splitlines(), first - 1, file)

    def _read_comment(self, lines, index, file):
        """Reads the comment lines right above the class (0-based `index` is its first line)."""
        i = index - 1
        while i >= 0 and lines[i].lstrip().startswith("#"):
            m = COMMENT.search(lines[i])
            if m:
                self.comment_line = i + 1
                self._parse(m.group(1), file)
                return
            i -= 1

    def _parse(self, text, file):
        # `input=1,3,32,32 args=(10, 'x')`: each key starts after whitespace; a value may hold spaces.
        for item in re.split(r"\s+(?=\w+=)", text.strip()):
            key, _, value = item.partition("=")
            try:
                if key == "input":
                    self.input = [int(v) for v in value.split(",") if v.strip()]
                elif key == "args":
                    self.args = ast.literal_eval(value.strip())
                else:
                    raise ValueError(f"unknown key {key!r} (known: input, args)")
            except (ValueError, SyntaxError) as e:
                raise Failure("arguments", f"cnn-lens comment: cannot read {item!r}: {e}", file, self.comment_line)


def split_args(args):
    """Constructor arguments as (positional, keyword): a list or tuple is positional, a dict keywords."""
    if args is None:
        return (), {}
    if isinstance(args, dict):
        return (), args
    if isinstance(args, (list, tuple)):
        return tuple(args), {}
    return (args,), {}


def purge_user_modules(files):
    """Forgets the user's modules (this request's and earlier ones'), so that imports read their files again."""
    earlier = UserFiles(MODEL_FOLDERS)
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, "__file__", None)
        if f and (f in files or f in earlier):
            del sys.modules[name]


def import_file(path, files):
    """Imports the model file as a module named after it (unless that name is taken by another module)."""
    folder = os.path.dirname(path)
    # First on the path, so that its neighbours win over an earlier model's folder.
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    if folder not in MODEL_FOLDERS:
        MODEL_FOLDERS.append(folder)
    name = os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules or not name.isidentifier():
        name = f"cnn_lens_user_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        del sys.modules[name]
        raise Failure("syntax", f"SyntaxError: {e.msg}", e.filename, e.lineno)
    except USER_ERRORS as e:
        del sys.modules[name]
        raise user_failure("import", e, files)
    return module


def user_failure(kind, exc, files, fallback=(None, None), module=None):
    """A Failure for an exception raised by the user's code, at its innermost line in the user's files."""
    file, line = files.traceback_site(exc.__traceback__)
    if file is None:
        file, line = fallback
    return Failure(kind, f"{type(exc).__name__}: {exc}".strip(), file, line, module)


class ConstructionSites:
    """Records, for every module constructed while active, the user's line that constructed it.

    nn.Module.__new__ runs once per object before any __init__, with the constructing call on the stack
    (unlike __init__, which for a subclass also runs from its own super().__init__() line). The patch stays
    for the life of the process: once a class has had a Python __new__, removing it leaves subclasses
    calling object.__new__ with their arguments, which fails.
    """

    active = None

    @classmethod
    def install(cls):
        def new(klass, *args, **kwargs):
            obj = object.__new__(klass)
            if cls.active is not None:
                cls.active.record(obj, sys._getframe(1))
            return obj

        nn.Module.__new__ = new

    def __init__(self, files):
        self.files = files
        self.sites = {}

    def record(self, obj, frame):
        # Keyed by id, with the object kept alive so that no id is reused while recording.
        self.sites[id(obj)] = (obj, self.files.frame_site(frame))

    def __enter__(self):
        ConstructionSites.active = self
        return self

    def __exit__(self, *exc):
        ConstructionSites.active = None

    def of(self, module):
        entry = self.sites.get(id(module))
        return entry[1] if entry else None


def first_tensor(value, where="output"):
    """The first tensor in a (nested) output, and where it was found: ('output', t) or ("output['x'][0]", t)."""
    if isinstance(value, torch.Tensor):
        return where, value
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        items = ()
    for key, item in items:
        found = first_tensor(item, f"{where}[{key!r}]")
        if found[1] is not None:
            return found
    return where, None


class Calls:
    """Forward hooks on every module: each call's input and output shapes, in the order calls started."""

    def __init__(self, paths):
        self.records, self.running, self.handles = [], [], []
        for module, path in paths.items():
            self.handles.append(module.register_forward_pre_hook(self._pre(path, module)))
            self.handles.append(module.register_forward_hook(self._post()))

    def _pre(self, path, module):
        def hook(_m, args):
            record = {"path": path, "type": type(module).__name__, "in_shape": shape_of(args)}
            record["out_shape"] = None
            self.records.append(record)
            self.running.append(record)

        return hook

    def _post(self):
        def hook(_m, _args, output):
            self.running.pop()["out_shape"] = shape_of(output)

        return hook

    def failed(self):
        """The innermost module whose forward was running when an exception left it (or None)."""
        return self.running[-1]["path"] if self.running else None

    def remove(self):
        """Takes the hooks off again."""
        for h in self.handles:
            h.remove()


def shape_of(value):
    """The shape of the first tensor in `value`, as a list; None when there is none."""
    t = first_tensor(value)[1]
    # int(): while tracing, sizes are traced values rather than plain ints.
    return [int(d) for d in t.shape] if t is not None else None


def run(model, x, path):
    """One forward pass, returning the model's output: traced into an ONNX export at `path` when given.

    Export: TorchScript exporter (dynamo=False), eval mode. In torch 2.x Conv+BatchNorm fusion
    (_jit_pass_onnx_eval_peephole) runs only inside constant folding, so do_constant_folding=False keeps
    BatchNorm a node with its own scale, bias and running statistics. keep_initializers_as_inputs=True
    skips _jit_pass_onnx_deduplicate_initializers, which in eval mode merges tensors of equal *value*
    (every fresh BatchNorm's ones and zeros) into one initializer plus Identity nodes, making the
    parameters look shared. With both, the initializers are exactly parameters() and the BN buffers.
    (TrainingMode.TRAINING would keep BN too, but as training-mode nodes with batch statistics.)
    """
    if not path:
        with torch.no_grad():
            return model(x)
    forward = model.forward
    outputs = []

    def first_output(*args, **kwargs):
        outputs.append(forward(*args, **kwargs))
        return first_tensor(outputs[-1])[1]

    # An instance attribute, so that the root scope stays the model's and node names keep module paths.
    model.forward = first_output
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation and tracer warnings
            torch.onnx.export(
                model,
                (x,),
                path,
                dynamo=False,
                opset_version=17,
                training=torch.onnx.TrainingMode.EVAL,
                do_constant_folding=False,
                keep_initializers_as_inputs=True,
                export_params=True,
                input_names=["input"],
                output_names=["output"],
            )
    finally:
        del model.forward
    return outputs[0]


def analyse(req, answer):
    """Answers one analysis request into `answer`, which keeps what was recorded if a Failure is raised."""
    started = time.perf_counter()
    ms = answer["ms"] = {}
    load_torch()
    ms["import"] = round((time.perf_counter() - started) * 1000)
    file = os.path.realpath(req["file"])
    name = req["class"]
    files = UserFiles(req.get("roots") or [os.path.dirname(file)])
    notes = answer["notes"]

    answer.update({"file": file, "class": name})
    spec = ClassSpec(file, name)
    answer["line"] = spec.line
    shape = req.get("input") or spec.input or DEFAULT_INPUT
    args = req["args"] if req.get("args") is not None else spec.args
    answer["input"] = shape
    answer["input_from"] = origin(req.get("input"), spec.input)
    answer["args_from"] = origin(req.get("args"), spec.args)

    purge_user_modules(files)
    t = time.perf_counter()
    cls = model_class(import_file(file, files), name, file)
    positional, keywords = split_args(args)
    check_arguments(cls, positional, keywords, file, spec)
    with ConstructionSites(files) as sites:
        try:
            model = cls(*positional, **keywords)
        except USER_ERRORS as e:
            raise user_failure("construct", e, files, (file, spec.line))
    model.eval()
    ms["construct"] = round((time.perf_counter() - t) * 1000)

    paths = {m: p for p, m in model.named_modules()}
    answer["modules"] = [module_entry(m, p, sites, file, spec) for m, p in paths.items()]
    answer["parameters"] = sum(p.numel() for p in model.parameters())
    answer["buffers"] = sum(b.numel() for b in model.buffers() if b.is_floating_point())

    # One pass records every module's shapes and, traced, is the export: a failure leaves the rows that ran.
    calls = Calls(paths)
    answer["calls"] = calls.records
    x = torch.zeros(shape)
    t = time.perf_counter()
    try:
        output = run(model, x, req.get("onnx"))
    except USER_ERRORS as e:
        # With a module's forward still running, the model failed; otherwise the exporter did.
        kind = "forward" if calls.running else "export"
        raise user_failure(kind, e, files, (file, spec.line), calls.failed())
    finally:
        calls.remove()
    ms["run"] = round((time.perf_counter() - t) * 1000)
    answer["onnx"] = req.get("onnx")
    where, out = first_tensor(output)
    if out is None:
        raise Failure("forward", f"{name}.forward returned no tensor ({type(output).__name__})", file, spec.line)
    if where != "output":
        notes.append(f"the model returns a {type(output).__name__}: the table follows its first tensor, {where}")
    answer["output_shape"] = shape_of(out)
    ran = {c["path"] for c in calls.records}
    unused = {m: p for m, p in paths.items() if p not in ran and next(m.parameters(recurse=False), None) is not None}
    if unused:
        count = sum(q.numel() for m in unused for q in m.parameters(recurse=False))
        notes.append(f"{count} parameters are in modules the forward pass never called: {', '.join(unused.values())}")


def origin(requested, commented):
    """Where a setting came from: the request, the class's comment, or the default."""
    if requested is not None and requested != []:
        return "request"
    return "comment" if commented is not None else "default"


def model_class(module, name, file):
    """The nn.Module class `name` of the imported file; a Failure lists the file's classes otherwise."""
    cls = getattr(module, name, None)
    if inspect.isclass(cls) and issubclass(cls, nn.Module):
        return cls
    own = [
        n
        for n, c in vars(module).items()
        if inspect.isclass(c) and issubclass(c, nn.Module) and c.__module__ == module.__name__
    ]
    what = "no class" if cls is None else "not an nn.Module:"
    raise Failure("no-class", f"{what} {name} in {file}; its nn.Module classes: {', '.join(own) or 'none'}", file)


def check_arguments(cls, positional, keywords, file, spec):
    """Fails with the names of missing or unexpected constructor arguments, before constructing."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*positional, **keywords)
    except TypeError as e:
        named = (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        )
        rest = list(signature.parameters.values())[len(positional) :]
        missing = [p.name for p in rest if p.default is p.empty and p.kind in named and p.name not in keywords]
        what = f"needs {', '.join(missing)}" if missing else f"does not take these arguments ({e})"
        raise Failure(
            "arguments",
            f"{cls.__name__}({signature_text(signature)}) {what}: give them with a '# cnn-lens: args=(…)' "
            f"comment above the class or --args",
            file,
            spec.comment_line or spec.line,
        )


def signature_text(signature):
    """A signature's parameters as written: 'num_classes, width, depth=2'."""
    return ", ".join(str(p) for p in signature.parameters.values())


def module_entry(module, path, sites, file, spec):
    """One module: path, type, where it was constructed, its parameters (with its children's)."""
    source = sites.of(module)
    if path == "":
        source = {"file": file, "line": spec.line}  # the root: the class the request names
    return {
        "path": path,
        "type": type(module).__name__,
        "source": source,
        "params": sum(p.numel() for p in module.parameters()),
        "leaf": next(module.children(), None) is None,
    }


def answer_line(req):
    """Runs one request; never raises. Errors become {"ok": false, "error": {...}} beside what was recorded."""
    answer = {"id": req.get("id") if isinstance(req, dict) else None, "ok": False, "error": None}
    answer.update({"modules": [], "calls": [], "notes": [], "onnx": None})
    try:
        if not isinstance(req, dict):
            raise Failure("request", f"a request is one JSON object per line, not {str(req)[:80]!r}")
        if req.get("op") == "probe":
            load_torch()
        else:
            missing = [k for k in ("file", "class") if not req.get(k)]
            if missing:
                raise Failure("request", f"the request has no {', '.join(missing)}")
            if not os.path.isfile(req["file"]):
                raise Failure("request", f"{req['file']} is not a file", req["file"])
            analyse(req, answer)
        answer["ok"] = True
    except Failure as f:
        answer["error"] = {"kind": f.kind, "message": str(f), "file": f.file, "line": f.line, "module": f.module}
    except KeyboardInterrupt:
        answer["error"] = {"kind": "cancelled", "message": "cancelled", "file": None, "line": None, "module": None}
    except Exception as e:  # noqa: BLE001 - the helper's own bug: say so, and keep serving
        message = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        answer["error"] = {"kind": "internal", "message": message, "file": None, "line": None, "module": None}
    answer["versions"] = versions()
    return answer


def main():
    """Serves JSON-line requests until stdin closes; the user's prints go to stderr, never into answers."""
    sys.dont_write_bytecode = True  # no __pycache__ in the user's folders
    with open(os.dup(1), "w", encoding="utf-8") as out:
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        while True:
            try:
                line = sys.stdin.readline()
            except KeyboardInterrupt:  # a cancellation that came after its answer
                continue
            if not line:
                return
            if not line.strip():
                continue
            try:
                req = json.loads(line)
            except ValueError:
                req = line.strip()
            out.write(json.dumps(answer_line(req)) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
