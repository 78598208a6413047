"""NuORDER listings move from the ambiguous `style-colour-size` key to the size's UPC, or, for a size without
one, the escaped `style|colour|size` (integrations/connectors/nuorder/parse.py), and keep the three parts as
`data["variant"]`; their order lines' channel SKUs follow, so mappings and orders stay joined.

What each old key was is read from the channel's stored orders (`Order.raw`): the product and size behind it.
Where two products had produced the same old key, the listing goes to the one it was made for (its product id,
then its UPC); the other product's next order creates its own listing. A listing no stored order names is keyed by
its UPC when it has one, and otherwise keeps its key (it cannot be split safely: `A-B-C` may be style `A-B`); the
next order naming that size moves it (orders.lines: `former_skus`). A new key already taken is left alone.
The key functions are copied here, as they were, so later changes to the connector cannot change this migration.
"""

from collections import defaultdict

from django.db import migrations

CHUNK = 1000


def old_key(style, color, size):
    return "-".join(part for part in (style, color, size) if part)


def new_key(style, color, size, upc):
    return upc.strip() or "|".join(p.replace("\\", "\\\\").replace("|", "\\|") for p in (style, color, size))


def _sizes(raw):
    """(product id, style, colour, size, upc) of every size of every line item of a stored order."""
    items = raw.get("line_items") if isinstance(raw, dict) else None
    for item in items if isinstance(items, list) else []:
        product = item.get("product") if isinstance(item, dict) else None
        if not isinstance(product, dict) or not isinstance(item.get("sizes"), list):
            continue
        style, color = str(product.get("style_number") or ""), str(product.get("color") or "")
        for size in item["sizes"]:
            if isinstance(size, dict) and size.get("size") is not None:
                upc = str(size.get("upc") or "").strip()
                yield str(product.get("_id") or ""), style, color, str(size["size"]), upc


def forwards(apps, schema_editor):
    Channel = apps.get_model("integrations", "Channel")
    for channel_id in Channel.objects.filter(kind="nuorder").values_list("id", flat=True):
        _channel(apps, channel_id)


def _channel(apps, channel_id):
    ItemMapping = apps.get_model("catalog", "ItemMapping")
    Order = apps.get_model("orders", "Order")
    OrderLine = apps.get_model("orders", "OrderLine")
    behind = defaultdict(dict)  # old key -> {new key: (product id, style, colour, size, upc)}
    by_size = {}  # (product id, size) -> new key, for the order lines
    for raw in Order.objects.filter(channel_id=channel_id).values_list("raw", flat=True).iterator(chunk_size=CHUNK):
        for product_id, style, color, size, upc in _sizes(raw):
            key = new_key(style, color, size, upc)
            behind[old_key(style, color, size)][key] = (product_id, style, color, size, upc)
            by_size[(product_id, size)] = key
    mappings = list(ItemMapping.objects.filter(channel_id=channel_id).only("channel_sku", "channel_product_id", "channel_upc", "data"))
    taken = {m.channel_sku for m in mappings}
    renamed = []
    for mapping in mappings:
        found = _source(mapping, behind.get(mapping.channel_sku, {}))
        if found:
            _, style, color, size, upc = found
            key = new_key(style, color, size, upc)
            data = {**(mapping.data if isinstance(mapping.data, dict) else {}), "variant": {"style": style, "color": color, "size": size}}
        elif mapping.channel_upc.strip():
            key, data = mapping.channel_upc.strip(), mapping.data
        else:
            continue
        if key == mapping.channel_sku or key in taken:
            if key == mapping.channel_sku and data != mapping.data:
                mapping.data = data
                renamed.append(mapping)
            continue
        taken.discard(mapping.channel_sku)
        taken.add(key)
        mapping.channel_sku, mapping.data = key, data
        renamed.append(mapping)
    ItemMapping.objects.bulk_update(renamed, ["channel_sku", "data"], batch_size=CHUNK)
    _lines(OrderLine, channel_id, by_size)


def _source(mapping, candidates):
    """The product and size a listing was made for, among those that produced its old key."""
    if len(candidates) <= 1:
        return next(iter(candidates.values()), None)
    for test in (
        lambda c: c[0] == mapping.channel_product_id and c[4] == mapping.channel_upc.strip(),
        lambda c: c[0] == mapping.channel_product_id,
        lambda c: c[4] == mapping.channel_upc.strip(),
    ):
        hits = [c for c in candidates.values() if test(c)]
        if len(hits) == 1:
            return hits[0]
    return None


def _lines(OrderLine, channel_id, by_size):
    """Each channel line (`<product _id>:<size>`, maybe `:2`) takes the new key of its own product and size."""
    lines = OrderLine.objects.filter(order__channel_id=channel_id, parent__isnull=True).only("external_id", "channel_sku")
    changed = []
    for line in lines.iterator(chunk_size=CHUNK):
        product_id, _, size = line.external_id.partition(":")
        key = by_size.get((product_id, size))
        if key is None and size.rpartition(":")[2].isdigit():
            key = by_size.get((product_id, size.rpartition(":")[0]))
        if key and key != line.channel_sku:
            line.channel_sku = key
            changed.append(line)
    OrderLine.objects.bulk_update(changed, ["channel_sku"], batch_size=CHUNK)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_mapping_import_jobs"),
        ("orders", "0009_orderline_attributes"),
        ("integrations", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
