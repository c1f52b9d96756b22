"""Kept raw uploads are encrypted at rest, readable by operators only, every read audited; tampering shows."""

import pytest

from citydata.datastore import rawvault, services
from citydata.datastore.storage import get_storage
from citydata.security.models import AuditEvent

from .conftest import bus_csv


def test_discarded_by_default(upload):
    version = upload(bus_csv(5))
    assert version.source_key == ""


def test_kept_raw_upload_is_sealed_and_only_operators_read_it(settings, upload, client, user_with_role):
    settings.KEEP_RAW_UPLOADS = True
    raw = bus_csv(40)
    version = upload(raw)
    services.version_publish(by=None, version=version)
    assert version.source_key.endswith(".sealed")
    stored = get_storage().local_path(version.source_key).read_bytes()
    assert stored.startswith(rawvault.MAGIC) and "川B10001".encode() not in stored and b"1\xe8\xb7\xaf" not in stored
    with pytest.raises(FileNotFoundError):  # the plain upload is gone
        get_storage().local_path(version.source_key[: -len(".sealed")])
    url = f"/manage/datasets/bus/data/v{version.number}/raw/"
    client.force_login(user_with_role("provider", "JTJ"))  # the department itself does not get the raw file
    assert client.get(url).status_code == 403
    client.force_login(user_with_role("operator"))
    answer = client.get(url)
    assert answer.status_code == 200 and b"".join(answer.streaming_content) == raw.encode()
    assert AuditEvent.objects.filter(action="data_version.raw_download", object_id=str(version.pk)).count() == 1
    page = client.get(f"/manage/datasets/bus/data/v{version.number}/").content.decode()
    assert "原始文件已加密保存" in page and url in page


def test_a_tampered_seal_is_refused(settings, upload):
    settings.KEEP_RAW_UPLOADS = True
    version = upload(bus_csv(5))
    path = get_storage().local_path(version.source_key)
    data = bytearray(path.read_bytes())
    data[40] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(rawvault.SealBroken):
        b"".join(rawvault.unseal(version.source_key))
