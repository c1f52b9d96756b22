"""S3-compatible object storage: the whole upload → ingest → publish → query → cleanup path against a real S3
server on 127.0.0.1 (moto's standalone server, spoken to over HTTP by boto3 as MinIO or OSS would be)."""

import csv
import datetime as dt
import io
import itertools

import boto3
import pytest

from citydata.datastore import services
from citydata.datastore.storage import S3Storage, get_storage, reset_storage
from citydata.datastore.tests.conftest import bus_csv

pytestmark = pytest.mark.django_db
_buckets = itertools.count()


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, settings, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "citydata-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "citydata-test-secret")
    bucket = f"citydata-test-{next(_buckets)}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    settings.STORAGE_URL = f"s3://{bucket}/city/data?endpoint={s3_endpoint}&region=us-east-1"
    settings.VAR_DIR = tmp_path / "var"
    reset_storage()
    storage = get_storage()
    assert isinstance(storage, S3Storage)
    return client, bucket, storage


def objects(client, bucket) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_versions_live_in_the_bucket_and_are_served_from_a_local_cache(s3, client, upload):
    s3_client, bucket, storage = s3
    version = upload(bus_csv(40))
    services.version_publish(by=None, version=version)
    # the version's Parquet and its serving copy are objects under the configured prefix; the raw upload is gone
    native = version.data_key.removesuffix(".parquet") + ".duckdb"
    assert objects(s3_client, bucket) == [f"city/data/{native}", f"city/data/{version.data_key}"]
    assert version.layout == {"file": version.data_key, "native": native}
    # a reader with an empty cache downloads them once, then reads the local copies
    storage._cached(version.data_key).unlink()
    storage._cached(native).unlink()
    from citydata.catalog.models import Dataset

    Dataset.objects.filter(pk=version.dataset_id).update(status="published")
    page = client.get("/api/v1/datasets/bus/records", {"_size": "5"}).json()
    assert page["total"] == 40 and len(page["items"]) == 5
    assert storage._cached(native).exists()
    assert storage._cached(version.data_key).exists()
    exported = client.get("/api/v1/datasets/bus/records", {"_format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 41


def test_a_second_version_replaces_the_first_and_cleanup_removes_orphans(s3, upload):
    s3_client, bucket, storage = s3
    first = upload(bus_csv(10))
    services.version_publish(by=None, version=first)
    second = upload(bus_csv(20))
    services.version_publish(by=None, version=second)
    services.version_discard(by=None, version=first)
    orphan = storage.cache.parent / "orphan.bin"
    orphan.write_bytes(b"left by a crashed ingest")
    storage.put(orphan, "versions/crashed/data.parquet")
    assert len(objects(s3_client, bucket)) == 5
    report = services.cleanup(grace=dt.timedelta(0))
    assert report["files_removed"] == 3  # the discarded version, its serving copy and the orphan
    second.refresh_from_db()
    assert objects(s3_client, bucket) == [f"city/data/{second.layout['native']}", f"city/data/{second.data_key}"]
    assert not storage._cached(first.data_key).exists()


def test_the_cache_is_trimmed_to_its_size_least_recently_used_first(s3, settings, upload):
    _client, _bucket, storage = s3
    versions = [upload(bus_csv(20 + i)) for i in range(3)]
    sizes = {v.data_key: storage._cached(v.data_key).stat().st_size for v in versions}
    storage.local_path(versions[0].data_key)  # read last: kept
    storage.cache_bytes = sizes[versions[0].data_key] + 1
    assert storage.trim_cache() == 5  # two versions' files and all three serving copies (written before the read)
    assert storage._cached(versions[0].data_key).exists()
    assert not storage._cached(versions[1].data_key).exists()
    # a trimmed file comes back from the bucket when read again
    assert storage.local_path(versions[1].data_key).stat().st_size == sizes[versions[1].data_key]


def test_a_missing_object_reads_as_not_found(s3):
    _client, _bucket, storage = s3
    with pytest.raises(FileNotFoundError):
        storage.local_path("versions/none/data.parquet")


def test_bad_storage_urls_are_refused_with_the_setting_named(settings):
    settings.STORAGE_URL = "ftp://example/data"
    reset_storage()
    with pytest.raises(ValueError, match="CITYDATA_STORAGE_URL"):
        get_storage()
    settings.STORAGE_URL = "s3:///no-bucket"
    reset_storage()
    with pytest.raises(ValueError, match="no bucket"):
        get_storage()
