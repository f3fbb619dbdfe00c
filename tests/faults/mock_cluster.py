"""librdkafka's mock cluster (from the ``confluent-kafka`` wheel), driven through its C API with ctypes.

A Kafka-protocol implementation that, unlike the embedded Tansu broker, takes an idempotent producer
(``InitProducerId``) with ``acks=all`` over several brokers, and lets a test inject produce errors and take a
broker down. It listens on TCP, so aiokafka talks to it like to any cluster. The Python binding does not expose the
mock API, so the library's own functions are called (``rdkafka_mock.h``).
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import confluent_kafka

#: Kafka protocol API keys and error codes (Apache Kafka's protocol guide).
PRODUCE = 0
NOT_LEADER_OR_FOLLOWER = 6
REQUEST_TIMED_OUT = 7
NOT_ENOUGH_REPLICAS = 19
NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20

_RD_KAFKA_PRODUCER = 0


def _library() -> ctypes.CDLL:
    package = Path(confluent_kafka.__file__).parent
    found = sorted((package.parent / "confluent_kafka.libs").glob("librdkafka*.so*"))
    if not found:
        raise RuntimeError(f"no librdkafka beside {package}: confluent-kafka is installed without its wheel library")
    lib = ctypes.CDLL(str(found[0]))
    lib.rd_kafka_conf_new.restype = ctypes.c_void_p
    lib.rd_kafka_conf_set.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    lib.rd_kafka_new.restype = ctypes.c_void_p
    lib.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_destroy.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_mock_cluster_new.restype = ctypes.c_void_p
    lib.rd_kafka_mock_cluster_new.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.rd_kafka_mock_cluster_destroy.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
    lib.rd_kafka_mock_cluster_bootstraps.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_mock_topic_create.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
    lib.rd_kafka_mock_push_request_errors_array.argtypes = [
        ctypes.c_void_p, ctypes.c_int16, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int)
    ]  # fmt: skip
    lib.rd_kafka_mock_broker_set_down.argtypes = [ctypes.c_void_p, ctypes.c_int32]
    lib.rd_kafka_mock_broker_set_up.argtypes = [ctypes.c_void_p, ctypes.c_int32]
    return lib


class MockCluster:
    """A mock cluster of ``brokers`` brokers on 127.0.0.1; :meth:`close` it when done."""

    def __init__(self, brokers: int = 3) -> None:
        self._lib = _library()
        conf = self._lib.rd_kafka_conf_new()
        error = ctypes.create_string_buffer(512)
        # The handle only hosts the cluster; it never connects anywhere (it would warn without a bootstrap).
        self._lib.rd_kafka_conf_set(conf, b"bootstrap.servers", b"127.0.0.1:1", error, len(error))
        self._lib.rd_kafka_conf_set(conf, b"log_level", b"0", error, len(error))
        self._handle = self._lib.rd_kafka_new(_RD_KAFKA_PRODUCER, conf, error, len(error))
        if not self._handle:
            raise RuntimeError(f"rd_kafka_new failed: {error.value.decode()}")
        self._cluster = self._lib.rd_kafka_mock_cluster_new(self._handle, brokers)
        if not self._cluster:
            raise RuntimeError("rd_kafka_mock_cluster_new failed")
        self.bootstrap: str = self._lib.rd_kafka_mock_cluster_bootstraps(self._cluster).decode()

    def create_topic(self, name: str, partitions: int, replication_factor: int) -> None:
        code = self._lib.rd_kafka_mock_topic_create(self._cluster, name.encode(), partitions, replication_factor)
        if code:
            raise RuntimeError(f"could not create {name}: error {code}")

    def fail_produce(self, *errors: int) -> None:
        """The next ``len(errors)`` produce requests (to any broker) fail with these error codes, in order."""
        array = (ctypes.c_int * len(errors))(*errors)
        self._lib.rd_kafka_mock_push_request_errors_array(self._cluster, PRODUCE, len(errors), array)

    def broker_down(self, broker_id: int) -> None:
        """Close the broker's connections and refuse new ones (its partitions' leaders stay where they are)."""
        self._lib.rd_kafka_mock_broker_set_down(self._cluster, broker_id)

    def broker_up(self, broker_id: int) -> None:
        self._lib.rd_kafka_mock_broker_set_up(self._cluster, broker_id)

    def close(self) -> None:
        if self._cluster:
            self._lib.rd_kafka_mock_cluster_destroy(self._cluster)
            self._cluster = None
        if self._handle:
            self._lib.rd_kafka_destroy(self._handle)
            self._handle = None
