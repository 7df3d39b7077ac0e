"""Small stand-in worlds and fact rebuilders that several test modules share."""


class Params:
    """A minimal parameter world, as the parameter kinds see one."""

    def __init__(self, **values: float) -> None:
        self.values = dict(values)
        self.initial = dict(values)
        self.settled = 0

    def get_param(self, name):
        return self.values[name]

    def set_param(self, name, value):
        self.values[name] = value

    def initial_param(self, name):
        return self.initial[name]

    def settle(self):
        self.settled += 1


def files_facts_from_state(state: dict, deleted: bool = True) -> dict:
    """The file world's facts, rebuilt from its state_dict alone (the entries that exist and,
    with ``deleted``, the None path of every deleted inode)."""
    facts = {}
    for path, record in state["files"].items():
        facts[f"file:{path}:exists"] = True
        facts[f"file:{path}:writable"] = record["writable"]
        facts[f"file:{path}:corrupt"] = record["corrupt"]
        facts[f"file:{record['inode']}:path"] = path
    for path in state["dirs"]:
        facts[f"dir:{path}:exists"] = True
    if deleted:
        for inode in state["deleted"]:
            facts[f"file:{inode}:path"] = None
    by_inode = {r["inode"]: (p, r) for p, r in state["files"].items()}
    for i, target in enumerate(state["targets"]):
        path, record = by_inode.get(target["inode"], (None, None))
        value = None if record is None or record["corrupt"] else dict(record["keys"]).get(target["key"])
        facts[f"target:{i}:path"] = path
        facts[f"target:{i}:value"] = value
        facts[f"target:{i}:ok"] = value == target["desired"]
    return facts
