"""Real event sounds for the proactive benchmark, from Debian packages, across the paper's six domains.

Each `EventSound` is one recording shipped in a Debian (bookworm, main) package:
what it is, its domain, whether a careful human assistant on a call would say
something about it (respond: alarms, ringing phones, sirens, a doorbell, breaking
glass, a scream, crying) or let it pass (ignore: animals, music, traffic, tools,
household noise, applause), and its split.

Splits: `tuning` is what thresholds and aggregation rules may be chosen on;
`test` is only measured. No recording is in both, and recordings that are
variants of one event (a game's four screams) stay in one split.

`fetch()` downloads the packages with `apt-get download` (no root needed),
extracts only the listed files into .cache/sound-bank and checks each by
sha256, so every machine measures the same audio whatever the package version.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from bench import sources
from soundloop.models import REPO_ROOT

BANK = REPO_ROOT / ".cache" / "sound-bank"
DOMAINS = ("human", "daily_life", "equipment", "traffic", "nature", "music")
SPLITS = ("tuning", "test")
MAX_SECONDS = 4.0  # a longer recording (a siren, rain) is cut to its first four seconds of sound
PEAK = 0.7


@dataclasses.dataclass(frozen=True)
class EventSound:
    name: str
    what: str
    domain: str
    respond: bool
    split: str
    package: str
    path: str  # inside the package
    sha256: str

    @property
    def file(self) -> pathlib.Path:
        return BANK / f"{self.name}{pathlib.PurePath(self.path).suffix}"


_FD = "/usr/share/sounds/freedesktop/stereo/"
_TUX = "/usr/share/tuxpaint/stamps/"
_S3D = "/usr/share/games/scorched3d/data/globalmods/"
_HOMEDECOR = "/usr/share/games/minetest/mods/homedecor/"
_LO = "/usr/lib/libreoffice/share/gallery/sounds/"
_SIMUTRANS = "/usr/share/games/simutrans/pak/sound/"
_XEMACS = "/usr/share/xemacs21/xemacs-packages/etc/sounds/"
_FROZEN = "/usr/share/games/frozen-bubble/snd/"
_LOMIRI = "/usr/share/sounds/lomiri/"

# (name, what, domain, respond, split, package, path, sha256)
_CATALOGUE = (
    # --- respond: tuning
    ("fd-alarm-clock", "alarm clock ringing", "equipment", True, "tuning", "sound-theme-freedesktop",
     _FD + "alarm-clock-elapsed.oga",
     "c28b4e0463eb3f19a3352049991c919cf8755e3f301f56a6276f5a81df472595"),
    ("fd-phone-ringing", "telephone ringing", "equipment", True, "tuning", "sound-theme-freedesktop",
     _FD + "phone-incoming-call.oga",
     "23957c68c49a23c056bbaa75b17cb56acfcab190f493c8f9b95781e6251b6e7a"),
    ("xboard-phone", "old telephone bell", "equipment", True, "tuning", "xboard",
     "/usr/share/games/xboard/sounds/phone.wav",
     "7836de27c31f8923521479ac0b722b01c8623b1cb98278374a63879f37be4a0a"),
    ("twinkle-ringtone", "softphone ringtone", "equipment", True, "tuning", "twinkle-common",
     "/usr/share/twinkle/ringtone.wav",
     "84a024e2982747ff3ac7da61939461805cebf315bae315b05e7f5930848fde95"),
    ("gnome-phone", "telephone ring", "equipment", True, "tuning", "gnome-audio", "/usr/share/sounds/phone.wav",
     "afef15dffcbf9f01a74361d87b3711f5a28fe13cb267086b649670d5bd4be865"),
    ("s3d-police-car", "police car siren", "traffic", True, "tuning", "scorched3d-data",
     _S3D + "apoc/data/wav/misc/policecar.wav",
     "51639ee94ebeb0b95dd60d1437d14259540244b5205ae910a84d1d3791f33084"),
    ("s3d-fire-truck", "fire truck siren", "traffic", True, "tuning", "scorched3d-data",
     _S3D + "apoc/data/wav/misc/firetruck.wav",
     "33eb57e0549723003c8a749bfa83301bbfb7371770740baffc33300a94da54a6"),
    ("homedecor-doorbell", "doorbell", "daily_life", True, "tuning", "minetest-mod-homedecor",
     _HOMEDECOR + "homedecor_electrical/sounds/homedecor_doorbell.ogg",
     "2ddbab53ed03252bdcb66b94e1f283ed7a3dbca3d8d9ba5c68523274969da375"),
    ("enigma-shatter", "glass shattering", "daily_life", True, "tuning", "enigma-data",
     "/usr/share/games/enigma/soundsets/enigma/shatter.wav",
     "d7f3a33b6c4d38fe42b39aa9dc526ef780ba08617c3ecef74b0a00dc77c8dd63"),
    ("s3d-scream", "a person screaming", "human", True, "tuning", "scorched3d-data",
     _S3D + "apoc/data/wav/misc/scream1.wav",
     "50b8b85c5236db12cee62aab5733d84e1c4334b9d920531dace144f1e67842b4"),
    ("s3d-screaming", "a person screaming", "human", True, "tuning", "scorched3d-data",
     _S3D + "apoc/data/wav/misc/screaming.wav",
     "22ca8e4a184562bd54dcfe32995ac0786c2589a88c6e44e222d4dba0bf41e04f"),
    # --- respond: test
    ("lomiri-alarm-clock", "alarm clock", "equipment", True, "test", "lomiri-sounds",
     _LOMIRI + "ringtones/Alarm clock.ogg",
     "58eba32c6f9d9d937c4e0e97bbd9eb0be95b4d43be0a3963df6cc2b7c8b66994"),
    ("lomiri-alarm-synth", "electronic alarm", "equipment", True, "test", "lomiri-sounds",
     _LOMIRI + "ringtones/Alarm synth.ogg",
     "0c70f9a128c00980a7b1927739f41cab05c856d1e930c0423b68024aa587b199"),
    ("qt-phone", "telephone ringing", "equipment", True, "test", "qtsensors5-examples",
     "/usr/lib/x86_64-linux-gnu/qt5/examples/sensors/shakeit/audio/phone.wav",
     "389394c198dc5ff97add42c24cd2dd3851ebb12ca9963c6a74438988cd3db772"),
    ("linphone-old-phone", "old telephone ringing", "equipment", True, "test", "linphone-common",
     "/usr/share/sounds/linphone/rings/oldphone-mono.wav",
     "2d63595d675782140cfde5de100ddde4ed5e77b6163c60eda46bc7cfbecd1df6"),
    ("epiphany-time-alarm", "alarm bell", "equipment", True, "test", "epiphany-data",
     "/usr/share/epiphany/sfx/timealarm.wav",
     "1055747cb2fc77d33972b6ed69a2967aa52c1ed051adfdd56fcc04ad10aa10d7"),
    ("tux-fire-truck", "fire truck siren passing", "traffic", True, "test", "tuxpaint-stamps-default",
     _TUX + "vehicles/emergency/firetruck.ogg",
     "b9fd965158eea9382e5b17aa114c205ef982023ea978275d8ac555ba3e1cac4c"),
    ("micropolis-siren", "siren", "traffic", True, "test", "micropolis-data",
     "/usr/share/games/micropolis/res/sounds/siren.wav",
     "256cd8ca121f1ff68feec87d8e631835cc98334b3f47826dbbb71d346aae6078"),
    ("horde-doorbell", "doorbell", "daily_life", True, "test", "php-horde",
     "/etc/horde/themes-available.d/default/horde/sounds/doorbell.wav",
     "67cd6215158733502db93ff81110aaadb5941e601b89cbd3b2ee5221d492e0c0"),
    ("brainparty-glass", "glass breaking", "daily_life", True, "test", "brainparty-data",
     "/usr/share/games/brainparty/glass_break.wav",
     "89f5a2e3074bb1ecfa2951697f7cf1fc433466c24bd37eeb32fae8cc75209842"),
    ("freedink-scream", "a woman screaming", "human", True, "test", "freedink-data",
     "/usr/share/games/dink/dink/Sound/wscream.wav",
     "a751e603ee5741c6776c84afa0ee03677e13b731cb140c06a9db2a3cb8008665"),
    ("hannah-scream", "a scream", "human", True, "test", "hannah-data",
     "/usr/share/games/hannah/sounds/scream.wav",
     "294cd31f69fa8efd1399369808bd0bd1477955033b9a35f46ec5b6e2e00179d6"),
    ("xemacs-cry", "crying", "human", True, "test", "xemacs21-basesupport", _XEMACS + "cry.wav",
     "c8bee16bd3fd22c198a10307cb35dd13079b0228cc2c959fe4229b4d965f6c18"),
    # --- ignore: tuning
    ("tux-blackbird", "blackbird song", "nature", False, "tuning", "tuxpaint-stamps-default",
     _TUX + "animals/birds/blackbird.ogg",
     "4d836ce784043f1ea54248bd5eadd3e2c06c41bd6fa1ff811888ec8cb470ca17"),
    ("tux-cow", "cow mooing", "nature", False, "tuning", "tuxpaint-stamps-default",
     _TUX + "animals/mammals/bovines/cow.ogg",
     "a98652ab6f43f7dba9f009847c496c0943b00bc2d3d34c1d884482bb8ac40d72"),
    ("s3d-rain", "rain", "nature", False, "tuning", "scorched3d-data", _S3D + "none/data/wav/misc/rain.wav",
     "1121b04160e55c0b7ae6aafb3d519d39a1924b2ede986e1aca4e8dc94f14b4cb"),
    ("s3d-frogs", "frogs", "nature", False, "tuning", "scorched3d-data", _S3D + "none/data/wav/misc/frogs.wav",
     "d04eaf228ff101a717ef19fd68874d4a0e8e6e3a99472db06a9f621032fdab18"),
    ("s3d-thunder", "thunder", "nature", False, "tuning", "scorched3d-data",
     _S3D + "none/data/wav/misc/thunder.wav",
     "8dd3138643043e6d2d34dc292ace2275c9f97e6b9f0e962fe1b6e23e45040e9a"),
    ("tux-cello", "cello", "music", False, "tuning", "tuxpaint-stamps-default",
     _TUX + "hobbies/music/string/cello.ogg",
     "aa9d9a65829c38dbe7a2375b47ae1b8a42975b483e5e369d8afdadc5a2834e10"),
    ("tux-drumkit", "drum kit", "music", False, "tuning", "tuxpaint-stamps-default",
     _TUX + "hobbies/music/percussion/drumkit.ogg",
     "5d11349616c0116027461a0240bcfc87b1209699d012cbd7c91eb1caef33dcae"),
    ("lo-kongas", "conga drums", "music", False, "tuning", "libreoffice-common", _LO + "kongas.wav",
     "7180d991d80ebcb20ba1f9860b72a8e879b6cc74513fa2694f807c8f2bd406a1"),
    ("micropolis-traffic", "heavy traffic", "traffic", False, "tuning", "micropolis-data",
     "/usr/share/games/micropolis/res/sounds/heavytraffic.wav",
     "1f6d7b29b48ee835e6cccd39f1ba905066a046aeed4d3f29df2ff4fece10d83e"),
    ("s3d-helicopter", "helicopter", "traffic", False, "tuning", "scorched3d-data",
     _S3D + "apoc/data/wav/misc/helicopter.wav",
     "6aedd098c15ef74ae7e7a35f0d3031edc2710b6422afbd80a4eaa96d976eee06"),
    ("s3d-city", "city street", "traffic", False, "tuning", "scorched3d-data",
     _S3D + "apoc/data/wav/misc/citysounds.wav",
     "ac868fee61d2164f1ed10aa067bdcb762325a397a5a2c35bc4c989480e5a9996"),
    ("simutrans-truck", "truck driving", "traffic", False, "tuning", "simutrans-pak64",
     _SIMUTRANS + "truck.wav",
     "ef32a642ea1b2b8febc7a5680e4b07858d2f1e102dc7dc5f1dfae00174596791"),
    ("fd-camera-shutter", "camera shutter", "equipment", False, "tuning", "sound-theme-freedesktop",
     _FD + "camera-shutter.oga",
     "72dbfcb2e4f25f9ff4855358127d8268dcecf8f133ac01509502be4b1746933f"),
    ("tux-hammer", "hammering", "equipment", False, "tuning", "tuxpaint-stamps-default",
     _TUX + "household/tools/hammer.ogg",
     "84fc4373b20e6c679482d91da67f83fce28c555880dc06dd215ea49bdd50c497"),
    ("tux-vacuum", "vacuum cleaner", "equipment", False, "tuning", "tuxpaint-stamps-default",
     _TUX + "household/vacuum_cleaner.ogg",
     "c21cb0ff5c2f9ccf1193b709e18680c9eabb36ae8c3d689440320fd3ad916e81"),
    ("frozen-typewriter", "typing on a typewriter", "equipment", False, "tuning", "frozen-bubble-data",
     _FROZEN + "typewriter.ogg",
     "108cec0c5455526aeed3e77dd5091f1f39aa3396493ebea67388c7f421967a4c"),
    ("simutrans-jackhammer", "jackhammer", "equipment", False, "tuning", "simutrans-pak64",
     _SIMUTRANS + "jackhammer.wav",
     "9272d310020ee274ad95c6316202df25ce0693831858a3aed5fdc6ab3e17f192"),
    ("fd-trash", "crumpling paper", "daily_life", False, "tuning", "sound-theme-freedesktop",
     _FD + "trash-empty.oga",
     "270b51d5df2cb86471bccc6a506122618e77e242411fe5e27569688084870294"),
    ("fd-message", "message chime", "daily_life", False, "tuning", "sound-theme-freedesktop",
     _FD + "message.oga",
     "55dd5aa69b8721561ff4562d7d073488fff1cd88116284349c2bdad05ba55731"),
    ("homedecor-door", "door opening", "daily_life", False, "tuning", "minetest-mod-homedecor",
     _HOMEDECOR + "homedecor_doors_and_gates/sounds/homedecor_door_open.ogg",
     "848f20580057ebbdb1868a6192aa46c1d1fbe612ef70f53611c4fe6b26158b7a"),
    ("homedecor-toilet", "toilet flushing", "daily_life", False, "tuning", "minetest-mod-homedecor",
     _HOMEDECOR + "homedecor_bathroom/sounds/homedecor_toilet_flush.ogg",
     "ab9f50e842630f1bdbb5bc3006c09c1996150dbf18e57aa9c2f796053fdaf7a7"),
    ("gnome-cards", "shuffling cards", "daily_life", False, "tuning", "gnome-audio",
     "/usr/share/sounds/card_shuffle.wav",
     "63ab7a8fa559dcc1794e175c628cb883b45403fcf334187852cffc3488fc8983"),
    ("lo-applause", "applause", "human", False, "tuning", "libreoffice-common", _LO + "applause.wav",
     "176c2b45b67e65fc6167637ae73cf6c09037e51b51efd4e87da1618c4e5bdf03"),
    ("s3d-cheering", "crowd cheering", "human", False, "tuning", "scorched3d-data",
     _S3D + "apoc/data/wav/misc/cheeringloop.wav",
     "7a2748f5426d73265349aedd9d61d26c6396652ae941c621b8f9baa9d7a90c1e"),
    ("xemacs-snore", "snoring", "human", False, "tuning", "xemacs21-basesupport", _XEMACS + "snore.wav",
     "655c2adc8f3411d0d548fa6c0607330f056422602efaf05800526ccf2b4387de"),
    # --- ignore: test
    ("tux-owl", "owl hooting", "nature", False, "test", "tuxpaint-stamps-default",
     _TUX + "animals/birds/owl.ogg",
     "7195a9ced5ae6edd8506623f43c9bc5347890fc988520a4775a37e48fa788b68"),
    ("tux-horse", "horse neighing", "nature", False, "test", "tuxpaint-stamps-default",
     _TUX + "animals/mammals/equines/horse.ogg",
     "bc307c4a55e39d55f767d87ca960f17cd2ee302ceb5efab36b948fd220a4579b"),
    ("tux-dog", "dog barking", "nature", False, "test", "tuxpaint-stamps-default",
     _TUX + "animals/mammals/dogs/dog.ogg",
     "610df5db4d298be353a609d1c5b7111e8f9fc42441fb8bfdd56ecfa74f515cc7"),
    ("pomodoro-birds", "birdsong", "nature", False, "test", "gnome-shell-pomodoro-data",
     "/usr/share/gnome-pomodoro/sounds/birds.ogg",
     "d592e455997e6af72dffeeaa3e93195ef88b83c06d91cc010b7bdfedca8b4c65"),
    ("brainparty-meow", "cat meowing", "nature", False, "test", "brainparty-data",
     "/usr/share/games/brainparty/meow.wav",
     "227b81fb7839dd13f4b0b677053f47dc188be312207ae466557b0adfcf184caa"),
    ("tux-violin", "violin", "music", False, "test", "tuxpaint-stamps-default",
     _TUX + "hobbies/music/string/violin.ogg",
     "ec3abefeebeb81d90901aabf2be6aa7163e7f10c6c83c088edeb21e3277fcac8"),
    ("tux-bassoon", "bassoon", "music", False, "test", "tuxpaint-stamps-default",
     _TUX + "hobbies/music/wind/bassoon.ogg",
     "880daf0111b760176ffcb74792414421d79435d5320cf2166b147b9d34e74bac"),
    ("tux-cymbal", "crash cymbal", "music", False, "test", "tuxpaint-stamps-default",
     _TUX + "hobbies/music/percussion/cymbal_crash.ogg",
     "e7496a6734cfde9a03ae29349fe0bb44ad7ad741e25cdcc408bb4ff329668c4b"),
    ("lo-gong", "gong", "music", False, "test", "libreoffice-common", _LO + "gong.wav",
     "7c1a354ffbc233e744fddcfdc26902db820c2327f095f4e0636b6fff2845f2f6"),
    ("simutrans-bus", "bus", "traffic", False, "test", "simutrans-pak64", _SIMUTRANS + "bus.wav",
     "cbbc35e3d00abcdea84fe45d6d478b325656074caf6f0d825a76565b43b41a27"),
    ("simutrans-plane", "plane flying low", "traffic", False, "test", "simutrans-pak64",
     _SIMUTRANS + "planelow.wav",
     "501168f2455f6a4803cc50f579e13ce97f89abe76b23b5bbf1316e87ec5d8033"),
    ("lo-train", "train", "traffic", False, "test", "libreoffice-common", _LO + "train.wav",
     "37ce885fb7ec7bd8a3a16c88651c51d71dc4ac646698e91d3e535645850a261f"),
    ("trophy-engine", "car engine", "traffic", False, "test", "trophy-data",
     "/usr/share/games/trophy/sounds/engine.wav",
     "3a196651e6875f1ce13781649da932edcf9af5f45f6879c647e4c136b3701c08"),
    ("lomiri-camera", "camera click", "equipment", False, "test", "lomiri-sounds",
     _LOMIRI + "camera/click/camera_click.ogg",
     "f034f0a2b929c5d4bc484a4bddd95a6b3559263cabb4f737eccda37bf66d58c9"),
    ("deepin-camera", "camera shutter", "equipment", False, "test", "deepin-sound-theme",
     "/usr/share/sounds/deepin/stereo/camera-shutter.wav",
     "5a5d979c56d3385c9b04409dca7b94f65ac9c1afcd3f1dd6cd6b0b7aeec44b00"),
    ("tux-camera", "film camera", "equipment", False, "test", "tuxpaint-stamps-default",
     _TUX + "hobbies/camera_35mm.ogg",
     "6097b0ba4f263a5ce5447af8592aa3f1d46a426ed88d3c919d567bf16c4faac6"),
    ("tux-saw", "sawing", "equipment", False, "test", "tuxpaint-stamps-default",
     _TUX + "household/tools/saw.ogg",
     "9ed3000dfdebcc66ff66800bb1e681e6a2aecfb3af75999a330997892391c47a"),
    ("tux-washing-machine", "washing machine", "equipment", False, "test", "tuxpaint-stamps-default",
     _TUX + "household/Washing-machine.ogg",
     "0b9cb6a561f9f548297038e5c7789c4949100155da5678882e0d33a91876c051"),
    ("tux-toilet", "toilet flushing", "daily_life", False, "test", "tuxpaint-stamps-default",
     _TUX + "household/toilet.ogg",
     "b4f83d103a1b45dd0f0d4ff866fef98ecf74f0d2721a6ca8f27df11f0a5be78d"),
    ("tux-scissors", "scissors", "daily_life", False, "test", "tuxpaint-stamps-default",
     _TUX + "household/arttools/scissors_small_open.ogg",
     "f81bd3fd20eb5c01fc1d3c461c19ab213d87993c43acd9ff91e20a33bc2bcb40"),
    ("tux-bottle", "bottle", "daily_life", False, "test", "tuxpaint-stamps-default",
     _TUX + "household/dishes/bottle.ogg",
     "66c2aa78f145b981595663c06e69242f0494b152870780af436726b17e8c9fa8"),
    ("homedecor-faucet", "running tap", "daily_life", False, "test", "minetest-mod-homedecor",
     _HOMEDECOR + "homedecor_common/sounds/homedecor_faucet.ogg",
     "6ac502a206e8bd6691571adc1896c0ee0c9d948ed77d362b16713666253c241a"),
    ("hannah-gulp", "gulping", "daily_life", False, "test", "hannah-data",
     "/usr/share/games/hannah/sounds/gulp.wav",
     "2368935a0ef62a6698dd7be59cad72ba9963df58c9e961cb4d0a097af42cc063"),
    ("frozen-applause", "applause", "human", False, "test", "frozen-bubble-data", _FROZEN + "applause.ogg",
     "fb42fc2570c14f2797621a11d0f7151c89db05e43a5fe7c2274230e56122b320"),
    ("frozen-snore", "snoring", "human", False, "test", "frozen-bubble-data", _FROZEN + "snore.ogg",
     "d302cbc76f78f2c4ecae99506a01d83635c9d9499ca53a287c5fc0eb0d3bc7a7"),
    ("etw-crowd", "stadium crowd", "human", False, "test", "etw-data", "/usr/share/games/etw/crowd/crowd01.wav",
     "f98a052b4b5e70a266a5eddc98d7e69c12d1705cc7b1f2926ebef5c4f84725e3"),
)

SOUNDS: tuple[EventSound, ...] = tuple(EventSound(*row) for row in _CATALOGUE)


def select(split: str | None = None, respond: bool | None = None) -> tuple[EventSound, ...]:
    return tuple(s for s in SOUNDS if (split is None or s.split == split)
                 and (respond is None or s.respond == respond))


def by_name(name: str) -> EventSound:
    for s in SOUNDS:
        if s.name == name:
            return s
    raise KeyError(f"no event sound named {name!r}")


def _sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def missing() -> list[EventSound]:
    return [s for s in SOUNDS if not s.file.exists()]


def _download(package: str, folder: str) -> None:
    """`apt-get download` into `folder`; with no package lists yet (a fresh image), updates them once."""
    # As root, apt drops to its _apt user to download and warns that it cannot write here; keep it root.
    sandbox = ["-o", "APT::Sandbox::User=root"] if os.geteuid() == 0 else []
    command = ["apt-get", "download", "-qq", *sandbox, package]
    if subprocess.run(command, cwd=folder).returncode == 0:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print(f"[sound-bank] {package} not found: updating the package lists", file=sys.stderr)
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run(command, cwd=folder, check=True)


def fetch() -> pathlib.Path:
    """Downloads the packages that hold missing sounds and extracts those files; checks every file's sha256."""
    absent = missing()
    packages = sorted({s.package for s in absent})
    BANK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BANK) as tmp:
        for package in packages:
            print(f"[sound-bank] {package}", file=sys.stderr)
            _download(package, tmp)
            (deb,) = pathlib.Path(tmp).glob(f"{package}_*.deb")
            wanted = [s for s in absent if s.package == package]
            tree = pathlib.Path(tmp) / package
            tree.mkdir()
            tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", str(tree), *(f".{s.path}" for s in wanted)], stdin=tar.stdout,
                           check=True)
            if tar.wait():
                raise RuntimeError(f"dpkg-deb could not read {deb.name}")
            for s in wanted:
                shutil.move(str(tree / s.path.lstrip("/")), s.file)
            deb.unlink()
    wrong = [f"{s.name}: {_sha256(s.file)}" for s in SOUNDS if s.sha256 and _sha256(s.file) != s.sha256]
    if wrong:
        raise RuntimeError("event sounds differ from the catalogue (a changed package?): " + "; ".join(wrong))
    return BANK


@functools.lru_cache(maxsize=128)
def audio(name: str) -> np.ndarray:
    """The sound at 16 kHz mono: trimmed to where it is audible, at most MAX_SECONDS, peak PEAK."""
    s = by_name(name)
    if not s.file.exists():
        raise FileNotFoundError(f"{s.file} is missing: run `python -m bench.sound_bank` to fetch the sound bank")
    clip, _ = sources.load(s.file)
    clip = sources.trim(clip)[:int(MAX_SECONDS * sources.RATE)]
    return (PEAK * clip / max(float(np.abs(clip).max()), 1e-6)).astype(np.float32)


def main() -> None:
    fetch()
    for split in SPLITS:
        for respond in (True, False):
            chosen = select(split, respond)
            domains = {d: sum(s.domain == d for s in chosen) for d in DOMAINS}
            print(f"{split:7s} {'respond' if respond else 'ignore':8s} {len(chosen):3d}  {domains}")


if __name__ == "__main__":
    main()
