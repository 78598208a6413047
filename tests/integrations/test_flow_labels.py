"""Flows read in words wherever a person sees them: each app labels the flows it declares."""

from integrations import flows


def test_every_registered_flow_has_a_label_in_words():
    unlabelled = sorted(name for (name, _), flow in flows._registry.items() if not flow.label or "." in flow.label)
    assert unlabelled == []


def test_a_flow_reads_as_its_label_and_an_unknown_name_as_itself():
    assert flows.flow_label("orders.download") == "Order download"
    assert flows.flow_label("integrations.ping") == "Health check"
    assert flows.flow_label("no.such.flow") == "no.such.flow"
