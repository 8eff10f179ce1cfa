"""`rnntui train --workers`: real child processes stopped by Ctrl-C, a killed worker and a full disk.

Each test starts `rnntui train` in its own session (as a shell does for a job), waits for
it to train, records every process below it from /proc, ends it one way or another, and
then checks that none of those processes is left and the checkpoint is whole.
"""

import json
import os
import resource
import signal
import sys
import time
from pathlib import Path

import pytest

from cli_helpers import run, spawn
from rnntui.train.checkpoint import load_checkpoint

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")

# A run that keeps both workers busy for a long time: 16 streams, 8 a worker.
ARGS = ["train", "--corpus", "fables", "--hidden", "24", "--embed", "8", "--batch", "16", "--seq-len", "16",
        "--workers", "2", "--eval-every", "5", "--sample-every", "1000000", "-q"]


def stat(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of a live process, or None when it is gone (a zombie is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text.rsplit(")", 1)[1].split()[:2]
    return None if state in "ZX" else (state, int(ppid))


def descendants(root: int) -> set[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (found := stat(int(entry))):
            parents[int(entry)] = found[1]
    below, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - below
        below |= frontier
    return below


def workers_of(root: int) -> list[int]:
    """The worker processes: the children of the fork server `rnntui train` started."""
    servers = {pid for pid in descendants(root) if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()}
    return sorted(pid for pid in descendants(root) if (found := stat(pid)) and found[1] in servers)


def wait_for(condition, what: str, seconds: float = 120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def training(tmp_path, *extra, **kwargs):
    """`rnntui train` with two workers, once it has saved a checkpoint; and its processes."""
    path, log = tmp_path / "run.safetensors", tmp_path / "log.jsonl"
    child = spawn(*ARGS, "--steps", "1000000", "--out", path, "--log", log, *extra, cwd=tmp_path,
                  start_new_session=True, **kwargs)
    wait_for(lambda: log.exists() and '"event": "checkpoint"' in log.read_text() or child.poll() is not None,
             "the first checkpoint")
    assert child.poll() is None, child.communicate()[1]
    workers = wait_for(lambda: len(workers_of(child.pid)) == 2 and workers_of(child.pid), "two workers")
    return child, path, workers, descendants(child.pid)


def assert_all_gone(processes: set[int]):
    wait_for(lambda: not [pid for pid in processes if stat(pid)], f"processes {sorted(processes)} to end", 30)


def test_ctrl_c_to_the_process_group_stops_saves_and_leaves_no_process(tmp_path):
    child, path, _, processes = training(tmp_path)
    os.killpg(child.pid, signal.SIGINT)  # what Ctrl-C at a terminal does: every process of the job
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "Traceback" not in err
    step = load_checkpoint(path).train_state["step"]
    assert f"stopped at step {step}" in err
    assert_all_gone(processes)
    resumed = run("train", "--resume", path, "--steps", step + 2, "-q")
    assert resumed.exit_code == 0, resumed.stderr
    assert load_checkpoint(path).train_state["step"] == step + 2


def test_a_killed_worker_ends_the_run_in_one_line_and_the_checkpoint_is_whole(tmp_path):
    child, path, workers, processes = training(tmp_path)
    os.kill(workers[1], signal.SIGKILL)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    killed = f"worker 2 of 2 (pid {workers[1]}) was killed by SIGKILL during "
    assert killed + "a step" in lines[0] or killed + "an evaluation" in lines[0], lines[0]  # the workers do both
    assert "the last good checkpoint is untouched" in lines[0]
    saved = load_checkpoint(path)  # loads whole: the kill never reaches a write in progress
    assert saved.train_state["step"] % 5 == 0 and saved.train_state["workers"] == 2
    assert_all_gone(processes)


def test_a_killed_parent_leaves_no_worker_and_a_whole_checkpoint(tmp_path):
    child, path, _, processes = training(tmp_path)
    child.kill()  # no handler runs: the workers must see their pipes close and end on their own
    child.communicate(timeout=60)
    assert_all_gone(processes)
    assert load_checkpoint(path).train_state["step"] % 5 == 0


@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs Linux's prlimit")
def test_a_full_disk_ends_the_run_in_one_line_and_keeps_the_last_checkpoint(tmp_path):
    path, log = tmp_path / "run.safetensors", tmp_path / "log.jsonl"
    first = run(*ARGS, "--steps", "5", "--out", path)
    assert first.exit_code == 0, first.stderr
    size = path.stat().st_size
    child = spawn("train", "--resume", path, "--steps", "1000000", "--log", log, "-q", cwd=tmp_path,
                  start_new_session=True)
    workers = wait_for(lambda: workers_of(child.pid) or child.poll() is not None, "the workers")
    assert child.poll() is None, child.communicate()[1]
    processes = set(workers) | descendants(child.pid)
    # From now on the kernel refuses any write past half a checkpoint: the next save fails partway,
    # as on a full disk. (Python ignores SIGXFSZ, so the write fails instead of killing the process.)
    resource.prlimit(child.pid, resource.RLIMIT_FSIZE, (size // 2, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    _, err = child.communicate(timeout=120)
    assert child.returncode == 1, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{path}: cannot write: File too large" in err
    # The last checkpoint the run reported saved (before the limit) is on disk, whole.
    saved = [json.loads(line)["step"] for line in log.read_text().splitlines() if '"event": "checkpoint"' in line]
    assert load_checkpoint(path).train_state["step"] == (saved[-1] if saved else 5)
    assert sorted(os.listdir(tmp_path)) == sorted([path.name, log.name])  # no temporary file left behind
    assert_all_gone(processes)


def test_a_resume_keeps_the_recorded_count_and_says_when_told_another(tmp_path):
    path = tmp_path / "m.safetensors"
    assert run(*ARGS, "--steps", "3", "--out", path).exit_code == 0
    kept = run("train", "--resume", path, "--steps", "4", "-q")
    assert kept.exit_code == 0 and "note" not in kept.stderr, kept.stderr
    changed = run("train", "--resume", path, "--steps", "5", "--workers", "1", "-q")
    assert changed.exit_code == 0, changed.stderr
    assert changed.stderr.strip() == (f"note: resuming with 1 worker(s) where {path} was trained with 2: "
                                      "the same run to float rounding, not to the last bit")
    assert load_checkpoint(path).train_state["workers"] == 1


def test_eval_reads_the_split_with_the_runs_workers_and_reports_its_final_number(tmp_path):
    path, log = tmp_path / "m.safetensors", tmp_path / "log.jsonl"
    trained = run(*ARGS, "--val-frac", "0.4", "--steps", "6", "--out", path, "--log", log)
    assert trained.exit_code == 0, trained.stderr
    final = [json.loads(line) for line in log.read_text().splitlines() if '"eval"' in line][-1]
    assert final["full"] and load_checkpoint(path).train_state["workers"] == 2
    report = run("eval", "--checkpoint", path, "--json")
    assert report.exit_code == 0, report.stderr
    assert json.loads(report.stdout)["loss_nats"] == final["val_loss"]


def test_workers_is_in_the_help_and_a_bad_count_is_one_line(tmp_path):
    assert "--workers" in run("train", "--help").stdout
    result = run("train", "--corpus", "fables", "--batch", "4", "--workers", "5", "--steps", "1",
                 "--out", tmp_path / "x.safetensors")
    assert result.exit_code == 1
    assert result.stderr.strip() == "rnntui: error: --workers 5 cannot split a batch of 4 streams " \
                                    "(each worker needs one stream at least)"
    assert not (tmp_path / "x.safetensors").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
