def run(size: str) -> list[str]:
    from integrations.models import Channel

    return [f"channels in the benchmark database: {Channel.objects.count()}"]
