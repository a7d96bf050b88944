package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// workerMemory is the memory set aside for each sweep worker: a default
// raftkv-chaos or registry-chaos run peaks at 32-40 MiB resident (GNU time
// -f %M on sofasim run), and a failing seed's porcupine search and reports
// take more; larger --param values take more again.
const workerMemory = 128 << 20

// capWorkers bounds the workers a sweep runs at once: no more than the
// seeds, the CPUs this process may use (more workers than CPUs only share
// them, and a seed's wall-time limits then run out: out-of-time seeds that
// say nothing about the system), and what the available memory holds at
// workerMemory each. why explains a cap that lowered the request.
func capWorkers(asked int, seeds uint64) (n int, why string) {
	cpus := runtime.GOMAXPROCS(0)
	n = min(asked, cpus)
	reason := fmt.Sprintf("this machine lets sofasim use %d %s", cpus, plural(cpus, "CPU"))
	if avail, ok := availableMemory(); ok {
		byMem := max(int(avail/workerMemory), 1)
		if byMem < n {
			n = byMem
			reason = fmt.Sprintf("%.1f GiB of memory is available, about %d MiB a worker", float64(avail)/(1<<30), workerMemory>>20)
		}
	}
	if n < asked {
		why = fmt.Sprintf("--workers %d lowered to %d: %s, and more workers than that only make seeds run out of time", asked, n, reason)
	}
	if seeds > 0 && uint64(n) > seeds {
		n = int(seeds)
	}
	return max(n, 1), why
}

// availableMemory is the memory this process may still use: the smaller
// of the system's MemAvailable and the cgroup's limit less its usage.
func availableMemory() (uint64, bool) {
	avail, ok := memAvailable()
	if limit, err := readUint("/sys/fs/cgroup/memory.max"); err == nil {
		if used, err := readUint("/sys/fs/cgroup/memory.current"); err == nil && used < limit {
			if !ok || limit-used < avail {
				avail, ok = limit-used, true
			}
		}
	}
	return avail, ok
}

func memAvailable() (uint64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// readUint reads a file holding one number ("max" is not one).
func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
}
