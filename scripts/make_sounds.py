"""Generate the alarm sounds (resources/sounds/alarm_{high,medium,low}.wav) with Python's wave module.

The patterns follow the shape of IEC 60601-1-8 auditory alarm signals: pulses of a harmonic-rich
tone (fundamental between 150 and 1000 Hz, four harmonics) with 20 ms rise and fall, and
  high:   a burst of 3 + 2 pulses (the program repeats the burst every 10 s until acknowledged),
  medium: 3 pulses (repeated every 25 s until acknowledged),
  low:    2 softer pulses (played once).
These are not certified alarm signals; they make priorities distinguishable by ear.
    python scripts/make_sounds.py [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import struct
import sys
import wave
from pathlib import Path

RATE = 22_050  # samples per second, 16-bit mono
HARMONICS = (1.0, 0.6, 0.45, 0.35, 0.25)  # relative amplitudes of the fundamental and 4 harmonics
RAMP_S = 0.02

# priority: (fundamental Hz, amplitude 0-1, [(pulse seconds, silence after seconds), ...])
PATTERNS: dict[str, tuple[float, float, list[tuple[float, float]]]] = {
    "high": (523.25, 0.55, [(0.15, 0.10), (0.15, 0.10), (0.15, 0.35), (0.15, 0.10), (0.15, 0.40)]),
    "medium": (440.0, 0.5, [(0.20, 0.20), (0.20, 0.20), (0.20, 0.40)]),
    "low": (392.0, 0.35, [(0.20, 0.25), (0.20, 0.40)]),
}


def pulse(frequency: float, amplitude: float, seconds: float) -> list[float]:
    count = int(seconds * RATE)
    ramp = int(RAMP_S * RATE)
    norm = sum(HARMONICS)
    samples = []
    for n in range(count):
        t = n / RATE
        tone = sum(a * math.sin(2 * math.pi * frequency * (k + 1) * t) for k, a in enumerate(HARMONICS)) / norm
        envelope = min(1.0, n / ramp, (count - n) / ramp)
        samples.append(amplitude * envelope * tone)
    return samples


def pattern(priority: str) -> list[float]:
    frequency, amplitude, steps = PATTERNS[priority]
    samples: list[float] = []
    for on, off in steps:
        samples += pulse(frequency, amplitude, on)
        samples += [0.0] * int(off * RATE)
    return samples


def write(path: Path, samples: list[float]) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(struct.pack("<h", round(s * 32767)) for s in samples))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the alarm WAV files.")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "resources" / "sounds")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for priority in PATTERNS:
        path = args.out / f"alarm_{priority}.wav"
        write(path, pattern(priority))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
