"""Compile every kernels/*.cu for sm_80 and sm_90 with nvcc, instantiating each template kernel.

Template kernels produce no code until instantiated (CuPy instantiates them at run time by
name expression), so a plain `nvcc -c` would accept a kernel that cannot compile. This
writes, for each source, a translation unit that takes the address of every kernel instance
the GPU backend asks CuPy for (the same name expressions, from minicnn.backend.cuda_kernels),
which forces the instantiations. The CPU emulator compiles the same instances in the tests.
"""
import pathlib
import subprocess
import sys
import tempfile

from minicnn.backend.cuda_kernels import family_names

ARCHITECTURES = ("sm_80", "sm_90")


def main():
    sources = sorted(pathlib.Path("kernels").glob("*.cu"))
    if not sources:
        print("no kernels/*.cu to compile")
        return 0
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        for source in sources:
            names = family_names(source.stem)
            keep = ", ".join(f"(void*)&{name}" for name in names)
            unit = pathlib.Path(scratch, source.stem + "_all.cu")
            unit.write_text(f'#include "{source.resolve()}"\nvoid* keep_{source.stem}[] = {{{keep}}};\n')
            for arch in ARCHITECTURES:
                command = ["nvcc", "-std=c++17", f"-arch={arch}", "-c", str(unit),
                           "-o", str(pathlib.Path(scratch, f"{source.stem}_{arch}.o"))]
                result = subprocess.run(command, capture_output=True, text=True)
                status = "ok" if result.returncode == 0 else "FAILED"
                print(f"{source} [{arch}] {len(names)} kernel instances: {status}")
                if result.returncode != 0:
                    print(result.stderr)
                    failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
