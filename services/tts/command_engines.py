"""Speech engines that run a Debian synthesizer per clause: espeak-ng and flite.

The text always travels on stdin, never through a shell or argv, so nothing in
it (a leading "-", quotes, the caller's words in `ps`) can change the command.
espeak-ng streams a WAV to stdout, read in blocks as it comes; flite cannot
write a streamed WAV to a pipe, so it writes a temporary file read when it exits.
Cancelling kills the process.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
from typing import BinaryIO

import numpy as np

from soundloop.audio import codec
from soundloop.errors import Unavailable

BLOCK_BYTES = 4096  # ~90 ms of espeak-ng's 22.05 kHz PCM16: small enough to start early


class EngineUnavailable(RuntimeError):
    """The synthesizer binary is missing or does not work on this machine."""


def _binary(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise EngineUnavailable(f"{name} is not installed (Debian package {name})")
    return path


def read_wav_header(stream: BinaryIO) -> int:
    """Reads a WAV header up to the start of its samples; returns the sample rate.

    The data size is ignored: a streamed WAV does not know it yet.
    """
    riff = stream.read(12)
    if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise EOFError("no WAV header")
    rate = None
    while True:
        head = stream.read(8)
        if len(head) < 8:
            raise EOFError("WAV header ended before its data")
        chunk_id, size = head[:4], struct.unpack("<I", head[4:])[0]
        if chunk_id == b"data":
            if rate is None:
                raise ValueError("WAV data before its format")
            return rate
        body = stream.read(size + (size & 1))
        if chunk_id == b"fmt ":
            audio_format, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if (audio_format, channels, bits) != (1, 1, 16):
                raise ValueError(f"expected mono 16-bit PCM, got format {audio_format}, {channels} ch, {bits} bit")


class ProcessSynthesis:
    """A synthesizer process fed `text` on stdin; its WAV (stdout, or `output_file` once it
    has exited) is returned as float32 chunks. `sample_rate` is known after the first chunk.
    """

    def __init__(self, argv: list[str], text: str, output_file: pathlib.Path | None = None):
        self.sample_rate = 0
        self._program = pathlib.Path(argv[0]).name
        self._output_file = output_file
        self._source: BinaryIO | None = None
        self._carry = b""
        self._cancelled = False
        self._released = False
        self._reading = threading.Lock()  # held by __next__; cancel() releases only when it is free
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL if output_file else subprocess.PIPE,
            stderr=subprocess.PIPE)
        # A clause is far below the pipe's 64 KiB buffer: this never blocks. If the
        # program died at once, __next__ reports how.
        with contextlib.suppress(BrokenPipeError):
            try:
                self._proc.stdin.write(text.encode("utf-8"))
            finally:
                self._proc.stdin.close()

    def __iter__(self) -> ProcessSynthesis:
        return self

    def __next__(self) -> np.ndarray:
        try:
            with self._reading:
                if self._cancelled or self._released:
                    raise StopIteration
                try:
                    return self._read_chunk()
                except BaseException:  # the end, a failure, or a kill: free everything now
                    self._release()
                    raise
        finally:
            if self._cancelled:
                self._release_if_idle()

    def cancel(self) -> None:
        self._cancelled = True
        self._proc.kill()  # wakes a reader blocked on the pipe or in wait()
        self._release_if_idle()

    def _release_if_idle(self) -> None:
        # A reader in __next__ releases on its way out; never close pipes under it.
        if self._reading.acquire(blocking=False):
            try:
                self._release()
            finally:
                self._reading.release()

    def _read_chunk(self) -> np.ndarray:
        if self._source is None:
            self._source = self._open_output()
        while True:
            data = self._carry + self._source.read1(BLOCK_BYTES)
            if len(data) == len(self._carry):  # end of the output
                self._check_exit(self._proc.wait())
                raise StopIteration
            usable = len(data) - len(data) % 2
            self._carry = data[usable:]
            if usable:
                return codec.from_pcm16_bytes(data[:usable])

    def _open_output(self) -> BinaryIO:
        if self._output_file is None:
            source = self._proc.stdout
        else:
            self._check_exit(self._proc.wait())
            if self._cancelled:
                raise StopIteration
            source = self._source = open(self._output_file, "rb")
        try:
            self.sample_rate = read_wav_header(source)
        except EOFError:
            self._check_exit(self._proc.wait())  # it failed: say why
            raise StopIteration from None
        return source

    def _check_exit(self, returncode: int) -> None:
        if returncode == 0 or self._cancelled:
            return
        if returncode < 0:  # a signal we did not send: the OOM killer, a pod or replica going down
            raise Unavailable(f"{self._program} was stopped by {_signal_name(-returncode)}; "
                              "the synthesis may be tried again")
        error = self._proc.stderr.read().decode("utf-8", "replace").strip()
        raise RuntimeError(f"{self._program} exited with {returncode}: {error[-500:]}")

    def _release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr, self._source):
            if stream is not None:
                stream.close()
        if self._output_file is not None:
            self._output_file.unlink(missing_ok=True)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:  # a real-time signal has no name of its own
        return f"signal {number}"


class EspeakEngine:
    """espeak-ng: formant synthesis, robotic but instant (first audio < 1 ms)."""

    name = "espeak-ng"

    def __init__(self, default_voice: str = "en-us"):
        self._binary = _binary("espeak-ng")
        self.voices = self._english_voices()
        if default_voice not in self.voices:
            raise EngineUnavailable(f"espeak-ng has no voice {default_voice!r}; it has {', '.join(self.voices)}")
        self.default_voice = default_voice

    def _english_voices(self) -> tuple[str, ...]:
        # Only English: the rest of soundloop (ASR, LLM prompts) is English. MBROLA
        # voices are listed by espeak-ng but need the separate mbrola program.
        listing = subprocess.run([self._binary, "--voices=en"], capture_output=True, text=True, check=True).stdout
        voices: list[str] = []
        for line in listing.splitlines()[1:]:
            fields = line.split()
            if (len(fields) >= 5 and fields[1].startswith("en") and not fields[4].startswith("mb/")
                    and fields[1] not in voices):
                voices.append(fields[1])
        if not voices:
            raise EngineUnavailable("espeak-ng lists no English voice")
        return tuple(voices)

    def synthesize(self, text: str, voice: str) -> ProcessSynthesis:
        return ProcessSynthesis([self._binary, "--stdin", "--stdout", "-v", voice], text)


class FliteEngine:
    """flite: CMU diphone/clustergen voices (BSD-style licence), clear and cheap."""

    name = "flite"
    # awb_time is a limited-domain voice that can only say the time.
    KNOWN_VOICES = ("slt", "rms", "awb", "kal16", "kal")

    def __init__(self, default_voice: str = "slt"):
        self._binary = _binary("flite")
        listing = subprocess.run([self._binary, "-lv"], capture_output=True, text=True, check=True).stdout
        installed = set(listing.split(":", 1)[-1].split())
        self.voices = tuple(v for v in self.KNOWN_VOICES if v in installed)
        if default_voice not in self.voices:
            raise EngineUnavailable(f"flite has no voice {default_voice!r}; it has {', '.join(self.voices)}")
        self.default_voice = default_voice

    def synthesize(self, text: str, voice: str) -> ProcessSynthesis:
        fd, name = tempfile.mkstemp(prefix="soundloop-flite-", suffix=".wav")
        os.close(fd)
        output = pathlib.Path(name)
        try:
            return ProcessSynthesis([self._binary, "-voice", voice, "-f", "-", "-o", name], text, output)
        except BaseException:
            output.unlink(missing_ok=True)
            raise
