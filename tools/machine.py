"""The machine a measurement ran on (no host name), for quoting numbers with it."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any, Dict, List, Optional


def machine() -> Dict[str, Any]:
    """CPU model, the CPUs this process may use, RAM and load, from /proc (no extra library)."""
    cpu = platform.processor() or platform.machine() or "unknown"
    ram_gb: Optional[float] = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        load: List[float] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpu": cpu,
        "cpus": len(os.sched_getaffinity(0)),
        "ram_gb": ram_gb,
        "load_average_at_start": load,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }
