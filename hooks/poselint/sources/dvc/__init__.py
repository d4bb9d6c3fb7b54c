"""DVC-tracked datasets: find them, tell a stale workspace, read them without pulling.

Finding what DVC tracks reads `.dvc` files, `dvc.yaml`/`dvc.lock` and the `.dir` manifests of
the local cache as plain YAML/JSON, so linting a plain folder never pays dvc's import time.
Only the stale-workspace check (PL108), `--no-pull` and `poselint diff` import dvc, lazily,
and they go through DVC's own API (`Repo.data_status`, its data index), never a copy of its
logic.

    config.py   where the DVC repository is; its config (the cache folder); the confinement
    files.py    .dvc files, dvc.yaml and dvc.lock, read bounded and checked: TrackedOutput
    cache.py    cache objects by md5, `.dir` manifests, the dataset roots a listing holds
    session.py  DvcSession: what one run opens and learns (dvc Repos, parsed files, statuses)
    status.py   the workspace against what DVC records (PL108), DVC's md5s of unchanged files
    remote.py   --no-pull: a root as DVC records it, read from the cache or the remote

Nothing is imported here: importing a module of this package imports only what it needs.
"""
