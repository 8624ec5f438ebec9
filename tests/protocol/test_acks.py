"""The ack table of protocol notes §2.1."""

from rtscope.protocol.acks import ACKS, expects_ack
from rtscope.protocol.events import CLIENT_EVENT_TYPES, direction_of


def test_every_client_event_but_append_expects_an_ack():
    assert not expects_ack("input_audio_buffer.append")
    for etype in ("session.update", "input_audio_buffer.commit", "response.create"):
        assert expects_ack(etype)


def test_acks_are_server_events_and_keys_are_client_events():
    for client, acks in ACKS.items():
        assert client in CLIENT_EVENT_TYPES
        assert all(direction_of(a) == "server" for a in acks)
    assert "conversation.item.added" in ACKS["conversation.item.create"]  # GA
    assert "conversation.item.created" in ACKS["conversation.item.create"]  # beta
