#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the "# kmx-bench:" JSON records of make bench into one JSON file
and one Markdown table per benchmark, in the output directory."""
import json
import sys


def pagetrack(recs):
    lines = ["| mode | watches | hub write ns | hub notifier ns | "
             "notifier ratio | naive notifier ns | naive ratio |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    by = {}
    for r in recs:
        by.setdefault((r["mode"], r["watches"]), {})[r["impl"]] = r
    for (mode, n), impls in sorted(by.items(), key=lambda k: (k[0][0], k[0][1])):
        hub = impls.get("hub", {})
        naive = impls.get("naive")
        lines.append("| %s | %d | %.0f | %.0f | %.2fx | %s | %s |" % (
            mode, n, hub.get("write_ns", 0), hub.get("notify_ns", 0),
            hub.get("notify_ratio", 0),
            "%.0f" % naive["notify_ns"] if naive else "-",
            "%.2fx" % naive["notify_ratio"] if naive else "-"))
    return "\n".join(lines) + "\n"


def fastpf(recs):
    lines = ["| mode | scheme | fixed without mmu_lock | fault p50 ns | p50 vs off | "
             "fault p90 ns | pass us | pass vs off | retried | locked out |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in recs:
        lines.append("| %s | %s | %.1f%% | %.0f | %.2fx | %.0f | %.0f | %.2fx | %d | %d |" % (
            r["mode"], r["scheme"], 100 * r["share"], r["p50_ns"], r["p50_ratio"],
            r["p90_ns"], r["pass_ns"] / 1000, r["pass_ratio"], r["retried"],
            r["locked_out"]))
    return "\n".join(lines) + "\n"


def asyncpf(recs):
    lines = ["| mode | delay us | policy | guest progress (median; runs) | "
             "faulting ms | not-present | sync in time | wait us | latency p50 |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(recs, key=lambda r: (r["mode"], r["delay_us"])):
        lines.append("| %s | %d | %s | %.0f%% (%s) | %.1f | %d | %d | %.0f | %s |" % (
            r["mode"], r["delay_us"], r["policy"] +
            (" %d us" % r["threshold_us"] if r["threshold_us"] else ""),
            100 * r["progress"],
            ", ".join("%.0f" % (100 * x) for x in r.get("progress_runs", [])),
            r["fault_ms"], r["not_present"],
            r["in_time"], r.get("wait_us", 0),
            ">= %.2f ms" % (r["lat_p50_ns"] / 1e6) if r["lat_p50_ns"] else "-"))
    return "\n".join(lines) + "\n"


def rmapunmap(recs):
    lines = ["| mode | slot MiB | mmu_lock us kvm | mmu_lock us nolock | ratio | "
             "lockless unmap us | delete ioctl us kvm / nolock | "
             "vCPU 1 writes kvm / nolock | mean us kvm / nolock | max us kvm / nolock | "
             "other VM max us kvm / nolock | other VM waits kvm / nolock |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in recs:
        other = r.get("other_vm_max_us", [0, 0])
        waits = r.get("other_vm_waits", [0, 0])
        lines.append("| %s | %d | %.0f | %.0f | %.1f%% | %.0f | %.0f / %.0f | %d / %d | "
                     "%.1f / %.1f | %.0f / %.0f | %.0f / %.0f | %d / %d |" % (
                         r["mode"], r["mib"], r["lock_us"][0], r["lock_us"][1],
                         100 * r["lock_ratio"], r["unmap_us"], r["ioctl_us"][0],
                         r["ioctl_us"][1], r["writes"][0], r["writes"][1],
                         r["mean_us"][0], r["mean_us"][1], r["max_us"][0],
                         r["max_us"][1], other[0], other[1], waits[0], waits[1]))
    return "\n".join(lines) + "\n"


def kutvmexit(recs):
    lines = ["| mode | cycles per CPUID exit, no module | with the module | ratio |",
             "|---|---:|---:|---:|"]
    for r in recs:
        lines.append("| %s | %d | %d | %.3fx |" % (
            r["mode"], r["no_module"], r["module"], r["ratio"]))
    return "\n".join(lines) + "\n"


TABLES = {"pagetrack": pagetrack, "fastpf": fastpf, "asyncpf": asyncpf,
          "rmapunmap": rmapunmap, "kutvmexit": kutvmexit}


def main():
    src, out = sys.argv[1], sys.argv[2]
    recs = [json.loads(line) for line in open(src) if line.strip()]
    benches = {}
    for r in recs:
        benches.setdefault(r["bench"], []).append(r)
    for name, rs in benches.items():
        with open("%s/%s.json" % (out, name), "w") as f:
            json.dump(rs, f, indent=1)
        if name in TABLES:
            table = TABLES[name](rs)
            with open("%s/%s.md" % (out, name), "w") as f:
                f.write(table)
            sys.stdout.write(table)
    if not recs:
        sys.exit("no benchmark records in %s" % src)


main()
