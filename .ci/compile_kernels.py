"""Compile every kernels/*.cu for sm_80 and sm_90 with nvcc, instantiating each template kernel.

Template kernels produce no code until instantiated (CuPy instantiates them at run time by
name expression), so a plain `nvcc -c` would accept a kernel that cannot compile. This
writes, for each source, a translation unit that takes the address of every kernel for
float and double, which forces the instantiations.
"""
import pathlib
import re
import subprocess
import sys
import tempfile

KERNEL = re.compile(r"template\s*<typename T>\s*__global__\s+void\s+(\w+)\s*\(")
ARCHITECTURES = ("sm_80", "sm_90")


def main():
    sources = sorted(pathlib.Path("kernels").glob("*.cu"))
    if not sources:
        print("no kernels/*.cu to compile")
        return 0
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        for source in sources:
            names = KERNEL.findall(source.read_text())
            keep = ", ".join(f"(void*)&{name}<{t}>" for name in names for t in ("float", "double"))
            unit = pathlib.Path(scratch, source.stem + "_all.cu")
            unit.write_text(f'#include "{source.resolve()}"\nvoid* keep_{source.stem}[] = {{{keep}}};\n')
            for arch in ARCHITECTURES:
                command = ["nvcc", "-std=c++17", f"-arch={arch}", "-c", str(unit),
                           "-o", str(pathlib.Path(scratch, f"{source.stem}_{arch}.o"))]
                result = subprocess.run(command, capture_output=True, text=True)
                status = "ok" if result.returncode == 0 else "FAILED"
                print(f"{source} [{arch}] {len(names)} kernels x 2 dtypes: {status}")
                if result.returncode != 0:
                    print(result.stderr)
                    failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
