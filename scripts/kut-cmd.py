#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Print how x86/run would start one kvm-unit-test, from x86/unittests.cfg:
the timeout on the first line, then the QEMU arguments one per line.
Usage: kut-cmd.py <build dir> <test>.  Exits 2 if the test is unknown,
3 if its entry needs what this runner does not do (a "check", a
"disabled_if", an "accel" other than kvm, or a backtick for the shell), 4
if it is for the other architecture, so that the caller reports it
instead.  Values quoted with triple quotes, which newer suites use for
long arguments, lose the quotes."""
import configparser
import shlex
import sys


def unquote(v):
    """A value in triple quotes spans lines: join them."""
    v = v.strip()
    if v.startswith('"""') and v.endswith('"""') and len(v) >= 6:
        v = " ".join(v[3:-3].split())
    return v


def main():
    build, name = sys.argv[1], sys.argv[2]
    cfg = configparser.ConfigParser(interpolation=None, strict=False,
                                    comment_prefixes=("#",))
    cfg.read(build + "/x86/unittests.cfg")
    if name not in cfg:
        return 2
    t = {k: unquote(v) for k, v in cfg[name].items()}
    if "check" in t or "disabled_if" in t or t.get("accel", "kvm") != "kvm":
        return 3
    arch = open(build + "/config.mak").read().split("\nARCH=")[1].split()[0]
    if t.get("arch", arch) != arch:
        return 4
    qemu = "qemu-system-i386" if arch == "i386" else "qemu-system-x86_64"
    args = [qemu, "--no-reboot", "-nodefaults",
            "-global", "kvm-pit.lost_tick_policy=discard",
            "-device", "pc-testdev",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4",
            "-display", "none", "-serial", "stdio", "-device", "pci-testdev",
            "-machine", "accel=kvm",
            "-kernel", build + "/x86/" + t["file"],
            "-smp", t.get("smp", "1").replace("$MAX_SMP", "2")]
    args += shlex.split(t.get("qemu_params", t.get("extra_params", "")))
    if "`" in t.get("test_args", "") + t.get("qemu_params", "") + \
            t.get("extra_params", ""):
        return 3
    # run_tests.sh evaluates the entry with the shell: its quotes go.
    test_args = " ".join(shlex.split(t.get("test_args", "")))
    if test_args:
        args += ["-append", test_args]
    print(t.get("timeout", "90s"))
    print("\n".join(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
