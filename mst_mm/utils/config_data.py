"""A stored config read as data, never run.

mmengine writes the config of a run as Python text: into every checkpoint
(``meta['cfg']``) and next to the run (``WORK_DIR/<config>.py``). Loading that text with
``Config.fromstring`` or ``Config.fromfile`` executes it, so a checkpoint or a results
folder from elsewhere could run any code. What mmengine writes there is only
assignments of literals (``model = dict(type='MST', backbone=dict(...))``); this module
reads exactly that with ``ast`` and refuses anything else, naming the line.
"""
import ast


class ConfigNotDataError(ValueError):
    """A stored config that holds more than assignments of literal values."""


def read_config_data(text: str, source: str) -> dict:
    """The top-level ``name = value`` assignments of a config text, as plain values.

    A value may be a number, string, bool or None, a list or tuple of values, a
    ``{...}`` with literal keys,
    ``dict(key=value, ...)``, or a negative number. Nothing is executed.

    Args:
        text (str): The config text (mmengine's ``Config.pretty_text``).
        source (str): What to call the text in errors (a file, ``ckpt.pth meta['cfg']``).

    Raises:
        ConfigNotDataError: naming the source, the line and what is not data there.
    """
    try:
        tree = ast.parse(text, filename=source)
    except (SyntaxError, ValueError, RecursionError) as error:
        raise ConfigNotDataError(f'{source}: not a config text ({error}).') from None
    data = {}
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            raise ConfigNotDataError(f'{source}, line {statement.lineno}: '
                                     f'{_quote(statement)} is code, not an assignment.')
        data[statement.targets[0].id] = _value(statement.value, source)
    return data


def _quote(node: ast.AST) -> str:
    text = ast.unparse(node).splitlines()[0]
    return repr(text if len(text) <= 60 else text[:57] + '...')


def _value(node: ast.AST, source: str):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List):
        return [_value(item, source) for item in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_value(item, source) for item in node.elts)
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return {k.value: _value(v, source) for k, v in zip(node.keys, node.values)}
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == 'dict' and not node.args
            and all(keyword.arg is not None for keyword in node.keywords)):
        return {keyword.arg: _value(keyword.value, source) for keyword in node.keywords}
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) in (int, float)):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    raise ConfigNotDataError(f'{source}, line {node.lineno}: {_quote(node)} is code, '
                             'not data.')
