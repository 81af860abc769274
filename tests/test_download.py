"""The downloader against a real HTTP server on 127.0.0.1 (no other network)."""

import hashlib
import io
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch

import srlib.losses.perceptual
from srlib.data import DownloadError, fetch_dataset, load_manifest
from srlib.data.download import RemoteDataset, download, safe_extract, sha256_of, verify_archive
from srlib.losses.perceptual import VGG19_FILE, find_vgg19_weights


class Server:
    """Serves ``files``; honours Range; ``cut`` paths send half their body once, then hang up; ``unsized``
    paths are sent without a Content-Length (the client cannot tell a cut body from a whole one)."""

    def __init__(self):
        self.files, self.cut, self.ranges, self.unsized = {}, set(), [], set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if (rng := self.headers.get("Range")) is not None:
                    server.ranges.append(rng)
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                if self.path not in server.unsized:
                    self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if self.path in server.cut:
                    server.cut.discard(self.path)
                    self.wfile.write(body[start:start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_tar(members: dict[str, bytes], links: dict[str, str] | None = None, mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
    return buf.getvalue()


def entry(name, url, data, sha=True):
    return RemoteDataset(name=name, url=url, filename=f"{name}.zip", size=len(data),
                         sha256=hashlib.sha256(data).hexdigest() if sha else None,
                         description="test", homepage="http://127.0.0.1/", licence="test")


def test_good_archive_is_downloaded_verified_and_extracted(tmp_path, server):
    archive = make_zip({"set/HR/a.png": b"A" * 1000, "set/HR/b.png": b"B" * 10})
    server.files["/set.zip"] = archive
    manifest = {"tiny": entry("tiny", server.url + "/set.zip", archive)}
    folder = fetch_dataset("tiny", tmp_path, manifest=manifest, progress=False)
    assert (folder / "set" / "HR" / "a.png").read_bytes() == b"A" * 1000
    assert fetch_dataset("tiny", tmp_path, manifest=manifest, progress=False) == folder  # done: no refetch


def test_interrupted_download_resumes_with_range(tmp_path, server):
    data = bytes(range(256)) * 4096  # 1 MiB
    server.files["/big.bin"] = data
    server.cut.add("/big.bin")
    dest = tmp_path / "big.bin"
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(DownloadError, match="run again"):
        download(server.url + "/big.bin", dest, size=len(data), sha256=sha, progress=False)
    part = tmp_path / "big.bin.part"
    assert part.exists() and 0 < part.stat().st_size < len(data) and not dest.exists()
    download(server.url + "/big.bin", dest, size=len(data), sha256=sha, progress=False)
    assert server.ranges and server.ranges[-1].startswith("bytes=")
    assert sha256_of(dest) == sha and not part.exists()


def test_truncated_body_without_known_size_is_not_accepted(tmp_path, server):
    server.files["/x.bin"] = b"x" * 5000
    server.cut.add("/x.bin")
    with pytest.raises(DownloadError):
        download(server.url + "/x.bin", tmp_path / "x.bin", progress=False)
    assert not (tmp_path / "x.bin").exists()
    download(server.url + "/x.bin", tmp_path / "x.bin", progress=False)
    assert (tmp_path / "x.bin").read_bytes() == b"x" * 5000


def test_wrong_checksum_is_refused_and_removed(tmp_path, server):
    server.files["/f.bin"] = b"payload"
    with pytest.raises(DownloadError, match="sha256"):
        download(server.url + "/f.bin", tmp_path / "f.bin", sha256="0" * 64, progress=False)
    assert not (tmp_path / "f.bin").exists() and not (tmp_path / "f.bin.part").exists()


def test_http_errors_are_clear(tmp_path, server):
    with pytest.raises(DownloadError, match="404"):
        download(server.url + "/nope", tmp_path / "nope", progress=False)


@pytest.mark.parametrize("archive", [
    make_zip({"ok.txt": b"1", "../evil.txt": b"2"}),
    make_tar({"ok.txt": b"1", "/tmp/evil-abs.txt": b"2"}),
    make_tar({"sub/../../evil.txt": b"2"}),
    make_tar({"ok.txt": b"1"}, links={"link": "/etc"}),
])
def test_path_escape_is_refused_before_writing(tmp_path, archive):
    path = tmp_path / "bad.archive"
    path.write_bytes(archive)
    with pytest.raises(DownloadError, match="escape"):
        safe_extract(path, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()
    assert not any((tmp_path / "out").iterdir())


def test_manual_archive_and_missing_url(tmp_path):
    archive = make_zip({"img.png": b"z"})
    (tmp_path / "dl.zip").write_bytes(archive)
    manifest = {"manual": entry("manual", None, archive)}
    with pytest.raises(DownloadError, match="--archive"):
        fetch_dataset("manual", tmp_path / "root", manifest=manifest)
    folder = fetch_dataset("manual", tmp_path / "root", manifest=manifest, archive=tmp_path / "dl.zip")
    assert (folder / "img.png").read_bytes() == b"z"
    with pytest.raises(KeyError, match="unknown dataset"):
        fetch_dataset("nothing", tmp_path, manifest=manifest)


def test_the_manifest_lists_the_course_datasets():
    manifest = load_manifest()
    for name in ("div2k_train_hr", "div2k_valid_hr", "flickr2k", "set5", "set14", "b100", "urban100",
                 "pirm_self_val"):
        assert name in manifest
        item = manifest[name]
        assert item.url is None or item.url.startswith(("http://", "https://"))
        assert item.homepage.startswith("http")


def test_a_users_folder_in_the_way_is_refused_not_deleted(tmp_path, server):
    archive = make_zip({"a.png": b"A"})
    server.files["/s.zip"] = archive
    manifest = {"set5": entry("set5", server.url + "/s.zip", archive)}
    (tmp_path / "set5").mkdir()
    (tmp_path / "set5" / "my_notes.txt").write_text("mine")
    with pytest.raises(DownloadError, match="not made by a finished download"):
        fetch_dataset("set5", tmp_path, manifest=manifest, progress=False)
    assert (tmp_path / "set5" / "my_notes.txt").read_text() == "mine"


@pytest.mark.parametrize("name, body", [
    ("plain.tar", make_tar({"a.png": b"A" * 30000, "b.png": b"B" * 30000}, mode="w")),
    ("gz.tar.gz", make_tar({"a.png": bytes(range(256)) * 200})),
])
def test_a_cut_download_of_unknown_size_is_not_accepted_and_not_kept(tmp_path, server, name, body):
    server.files["/" + name] = body
    server.cut.add("/" + name)
    server.unsized.add("/" + name)
    data = entry("cut", server.url + "/" + name, body, sha=False)
    manifest = {"cut": RemoteDataset(**{**data.__dict__, "size": None, "filename": name})}
    with pytest.raises(DownloadError, match="truncated|cut short"):
        fetch_dataset("cut", tmp_path, manifest=manifest, progress=False)
    assert not (tmp_path / "cut").exists() and not (tmp_path / "archives" / name).exists()
    assert not list(tmp_path.glob(".cut.*"))
    folder = fetch_dataset("cut", tmp_path, manifest=manifest, progress=False)  # whole this time
    assert (folder / ".complete").exists() and len(list(folder.glob("*.png"))) >= 1


def test_a_refused_extraction_leaves_no_staging_folder(tmp_path):
    evil = make_zip({"../evil.txt": b"2"})
    (tmp_path / "evil.zip").write_bytes(evil)
    manifest = {"evil": entry("evil", None, evil)}
    with pytest.raises(DownloadError, match="escape"):
        fetch_dataset("evil", tmp_path / "root", manifest=manifest, archive=tmp_path / "evil.zip")
    assert not list((tmp_path / "root").glob(".evil.*"))
    assert (tmp_path / "evil.zip").exists()  # the user's own archive is never removed


def weights_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({"features.0.weight": torch.ones(2, 3, 3, 3), "features.0.bias": torch.zeros(2)}, buffer)
    return buffer.getvalue()


def test_a_weights_file_is_downloaded_checked_and_kept_as_it_is(tmp_path, server, monkeypatch):
    data = weights_bytes()
    server.files["/vgg19-dcbb9e9d.pth"] = data
    manifest = {"vgg19": RemoteDataset(name="vgg19", url=server.url + "/vgg19-dcbb9e9d.pth",
                                       filename="vgg19-dcbb9e9d.pth", size=len(data), sha256=None, description="t",
                                       homepage="http://127.0.0.1/", licence="t", kind="weights")}
    folder = fetch_dataset("vgg19", tmp_path, manifest=manifest, progress=False)
    assert (folder / "vgg19-dcbb9e9d.pth").read_bytes() == data and (folder / ".complete").exists()
    monkeypatch.setattr(srlib.losses.perceptual, "DATASET_ROOT", tmp_path)
    assert find_vgg19_weights() == folder / "vgg19-dcbb9e9d.pth"  # where the perceptual loss looks


def test_a_file_that_is_not_weights_is_refused_and_not_kept(tmp_path, server):
    server.files["/model.pth"] = b"<html>sign in to download</html>"
    manifest = {"model": RemoteDataset(name="model", url=server.url + "/model.pth", filename="model.pth", size=None,
                                       sha256=None, description="t", homepage="http://127.0.0.1/", licence="t",
                                       kind="weights")}
    with pytest.raises(DownloadError, match="not a weights file"):
        fetch_dataset("model", tmp_path, manifest=manifest, progress=False)
    assert not (tmp_path / "archives" / "model.pth").exists() and not (tmp_path / "model").exists()


def test_the_manifest_lists_the_weights_the_course_uses():
    manifest = load_manifest()
    weights = {name for name, entry in manifest.items() if entry.kind == "weights"}
    assert {"vgg19", "realesrgan_x4plus_pth", "esrgan_x4"} <= weights
    assert manifest["vgg19"].filename == VGG19_FILE


def test_a_tar_cut_between_two_members_is_refused(tmp_path):
    # the first member ends in zeros, so the cut file ends in zero blocks as a whole tar does
    whole = make_tar({"a.png": b"A" * 100 + bytes(3000), "b.png": b"B" * 700, "c.png": b"C" * 700}, mode="w")
    cut = whole[:512 + 3584]  # the first header and its padded data: exactly one member
    (tmp_path / "cut.tar").write_bytes(cut)
    with pytest.raises(DownloadError, match="cut short"):
        verify_archive(tmp_path / "cut.tar")
    (tmp_path / "whole.tar").write_bytes(whole)
    verify_archive(tmp_path / "whole.tar")


def test_a_folder_named_like_the_staging_area_is_left_alone(tmp_path):
    archive = make_zip({"a.png": b"1"})
    (tmp_path / "set5.zip").write_bytes(archive)
    for mine in (".set5.extracting", ".set5.staging"):  # names a user (or an older srlib) may have made
        (tmp_path / "root" / mine).mkdir(parents=True)
        (tmp_path / "root" / mine / "keep.txt").write_text("mine")
    fetch_dataset("set5", tmp_path / "root", manifest={"set5": entry("set5", None, archive)},
                  archive=tmp_path / "set5.zip")
    for mine in (".set5.extracting", ".set5.staging"):
        assert (tmp_path / "root" / mine / "keep.txt").read_text() == "mine"
    assert (tmp_path / "root" / "set5" / "a.png").read_bytes() == b"1"
