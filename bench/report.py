#!/usr/bin/env python3
"""Turn bench/run.sh measurements into bench-results/<timestamp>.json and a Markdown
report on stdout.

    report.py RUNS_TSV FACTS_TSV OUT_JSON

RUNS_TSV rows: name, connections, wrk result JSON, server CPU ticks, Postgres backend CPU
ticks, "busy total" machine jiffies before, the same after, "turn_sum turn_count
provider_sum" from /metrics before, the same after, wait-event samples file (or -).
"""
import json
import sys

# Targets from issue 11 (ratios measured side by side in one run, c=1 p50 unless noted).
TARGET_MEMORY_RATIO = 2.0  # in-memory overhead per upstream call / nginx hop cost
TARGET_PG_OVER_MEMORY = 2.0  # Postgres turn overhead / in-memory turn overhead
TARGET_PG_THROUGHPUT_SHARE = 0.5  # Postgres turns/s at c=32 / in-memory turns/s at c=32
TARGET_PG_P99_OVER_P50 = 3.0  # Postgres overhead p99 / p50
TARGET_RSS_MB = 32

LABELS = {
    "stub-direct": "stub upstream, direct",
    "nginx-hop": "stub through bare nginx hop",
    "governed": "governed-chat `/api/chat` (Postgres, new session per turn)",
    "governed-sessions": "governed-chat, continuing 128 sessions",
    "governed-info-log": "governed-chat, LOG_LEVEL=info",
    "governed-no-db": "governed-chat, in-memory store (no DB)",
    "stack-floor": "stack floor, actix-web + reqwest making the same two calls alone",
}


# The variants whose overhead is derived beside governed's, as the derived rows name them.
VARIANTS = {
    "governed-sessions": "continuing 128 sessions",
    "governed-info-log": "LOG_LEVEL=info",
    "governed-no-db": "in-memory store (no DB)",
    "stack-floor": "stack floor (actix-web + reqwest alone)",
}


def read_tsv(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def ratio(r):
    return "n/a (hop cost ≤ 0)" if r is None else f"{r}×"


def fmt_us(us):
    if us is None:
        return "n/a"
    if abs(us) >= 1000:
        return f"{us / 1000:.2f} ms"
    return f"{us:.0f} µs"


def summarize_waits(path):
    """Average number of our database's non-idle backends per sample, by state and wait."""
    if path == "-":
        return None
    samples, totals = 0, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line == "--":
                samples += 1
            elif line:
                state_wait, _, count = line.rpartition(" ")
                totals[state_wait] = totals.get(state_wait, 0) + int(count)
    if not samples:
        return None
    return {
        "samples": samples,
        "mean_backends": {
            k: round(v / samples, 2) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])
        },
    }


def main():
    runs_path, facts_path, out_path = sys.argv[1:4]
    facts = {k: v for k, v in read_tsv(facts_path)}
    clk = int(facts.get("clk_tck", "100"))
    runs = []
    for row in read_tsv(runs_path):
        name, conns, res, ticks, pg_ticks, before, after, m_before, m_after, waits = row
        with open(res) as f:
            w = json.load(f)
        busy0, total0 = map(int, before.split())
        busy1, total1 = map(int, after.split())
        seconds = w["duration_us"] / 1e6
        n = max(w["requests"], 1)
        errors = w["errors"]
        ts0, tc0, ps0 = map(float, m_before.split())
        ts1, tc1, ps1 = map(float, m_after.split())
        in_app = None
        if tc1 > tc0:
            turns = tc1 - tc0
            in_app = {
                "turns": int(turns),
                "turn_mean_us": round((ts1 - ts0) / turns * 1e6, 1),
                "provider_mean_us": round((ps1 - ps0) / turns * 1e6, 1),
                "non_provider_mean_us": round(((ts1 - ts0) - (ps1 - ps0)) / turns * 1e6, 1),
            }
        runs.append(
            {
                "target": name,
                "connections": int(conns),
                "requests": w["requests"],
                "seconds": round(seconds, 3),
                "throughput_per_s": round(w["requests"] / seconds, 1),
                "latency_us": w["latency_us"],
                "errors": errors,
                "non_2xx": errors["status"],
                "server_cpu_us_per_request": round(int(ticks) * 1e6 / clk / n, 1),
                "server_cpu_cores": round(int(ticks) / clk / seconds, 2),
                "postgres_backend_cpu_us_per_request": round(int(pg_ticks) * 1e6 / clk / n, 1),
                "machine_busy_pct": round(100.0 * (busy1 - busy0) / max(total1 - total0, 1), 1),
                "in_app_metrics": in_app,
                "pg_waits": summarize_waits(waits),
            }
        )

    def get(target, c):
        for r in runs:
            if r["target"] == target and r["connections"] == c:
                return r
        return None

    derived = {}
    for c in sorted({r["connections"] for r in runs}):
        direct, hop, gov = get("stub-direct", c), get("nginx-hop", c), get("governed", c)
        if not (direct and hop and gov):
            continue
        d = {}
        for p in ("p50", "p99"):
            over = gov["latency_us"][p] - 2 * direct["latency_us"][p]
            hop_cost = hop["latency_us"][p] - direct["latency_us"][p]
            d[f"overhead_per_turn_{p}_us"] = over
            d[f"overhead_per_upstream_call_{p}_us"] = over / 2
            d[f"nginx_hop_cost_{p}_us"] = hop_cost
            d[f"ratio_{p}"] = round((over / 2) / hop_cost, 2) if hop_cost > 0 else None
        d["turns_per_s"] = gov["throughput_per_s"]
        for variant in VARIANTS:
            v = get(variant, c)
            if v:
                d[f"overhead_per_turn_p50_us_{variant}"] = (
                    v["latency_us"]["p50"] - 2 * direct["latency_us"]["p50"]
                )
                d[f"overhead_per_turn_p99_us_{variant}"] = (
                    v["latency_us"]["p99"] - 2 * direct["latency_us"]["p99"]
                )
                d[f"turns_per_s_{variant}"] = v["throughput_per_s"]
        derived[str(c)] = d

    rss_mb = int(facts["peak_rss_kb"]) / 1024 if "peak_rss_kb" in facts else None
    rss_mem_mb = (
        int(facts["peak_rss_kb_no_db"]) / 1024 if "peak_rss_kb_no_db" in facts else None
    )
    targets = []

    def target(name, value, limit, shown, at_least=False):
        met = value >= limit if at_least else value <= limit
        targets.append(
            {
                "target": name,
                "measured": shown,
                "met": met,
                "margin": f"{value / limit:.2f}× the {'target' if at_least else 'limit'}",
            }
        )

    d1, d32 = derived.get("1"), derived.get("32")
    mem1 = d1 and d1.get("overhead_per_turn_p50_us_governed-no-db")
    if d1 and mem1 is not None and d1["nginx_hop_cost_p50_us"] > 0:
        r = (mem1 / 2) / d1["nginx_hop_cost_p50_us"]
        target(
            "in-memory overhead per upstream call ≤ 2× nginx hop cost (c=1 p50)",
            r,
            TARGET_MEMORY_RATIO,
            f"{r:.2f}× ({fmt_us(mem1 / 2)} per call vs a {fmt_us(d1['nginx_hop_cost_p50_us'])} hop)",
        )
    # The Postgres figure is a continuing session; a new session per turn is shown too.
    for variant, label in (("governed-sessions", "continuing sessions"), ("governed", "new session per turn")):
        if d1 and mem1:
            key50 = "overhead_per_turn_p50_us" + ("" if variant == "governed" else f"_{variant}")
            key99 = "overhead_per_turn_p99_us" + ("" if variant == "governed" else f"_{variant}")
            if key50 in d1 and mem1 > 0:
                r = d1[key50] / mem1
                target(
                    f"Postgres turn overhead ≤ 2× in-memory overhead (c=1 p50; {label})",
                    r,
                    TARGET_PG_OVER_MEMORY,
                    f"{r:.2f}× ({fmt_us(d1[key50])} vs {fmt_us(mem1)})",
                )
            if key50 in d1 and d1[key50] > 0 and d1[key99] > 0:
                # (a p99 below twice the stub's p99 means the machine's noise swamped it)
                r = d1[key99] / d1[key50]
                target(
                    f"Postgres overhead p99 ≤ 3× its p50 (c=1; {label})",
                    r,
                    TARGET_PG_P99_OVER_P50,
                    f"{r:.2f}× ({fmt_us(d1[key99])} vs {fmt_us(d1[key50])})",
                )
        if d32 and d32.get("turns_per_s_governed-no-db"):
            mem = d32["turns_per_s_governed-no-db"]
            pg = d32["turns_per_s"] if variant == "governed" else d32.get(f"turns_per_s_{variant}")
            if pg:
                target(
                    f"Postgres throughput at c=32 ≥ 50% of in-memory ({label})",
                    pg / mem,
                    TARGET_PG_THROUGHPUT_SHARE,
                    f"{100 * pg / mem:.0f}% ({pg:,.0f} vs {mem:,.0f} turns/s)",
                    at_least=True,
                )
    for label, value in (("Postgres", rss_mb), ("in-memory store", rss_mem_mb)):
        if value is not None:
            target(
                f"peak RSS after the load < 32 MB ({label})",
                value,
                TARGET_RSS_MB,
                f"{value:.1f} MB",
            )

    result = {"facts": facts, "runs": runs, "derived": derived, "targets": targets}
    with open(out_path, "w") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
        f.write("\n")

    out = []
    out.append(
        f"Machine: {facts.get('nproc')} CPUs ({facts.get('cpu_model')}), "
        f"{int(facts.get('mem_total_kb', 0)) / 1048576:.1f} GiB RAM; load average "
        f"{facts.get('loadavg_start')} at start, {facts.get('loadavg_end')} at end; "
        f"{facts.get('bench_seconds')} s per run; commit {facts.get('git_commit')} "
        f"({facts.get('git_dirty')} locally modified crate files)."
    )
    out.append("")
    out.append(
        "| target | c | throughput (req/s) | p50 | p99 | p99.9 | errors / non-2xx "
        "| server CPU per request | machine busy |"
    )
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in runs:
        e = r["errors"]
        errs = e["connect"] + e["read"] + e["write"] + e["timeout"]
        cpu = (
            f"{r['server_cpu_us_per_request']:.0f} µs"
            if r["target"] not in ("stub-direct", "nginx-hop")
            else f"{r['server_cpu_us_per_request']:.0f} µs (nginx)"
        )
        if r["postgres_backend_cpu_us_per_request"] and r["target"].startswith("governed"):
            cpu += f" + {r['postgres_backend_cpu_us_per_request']:.0f} µs PG"
        out.append(
            f"| {LABELS.get(r['target'], r['target'])} | {r['connections']} "
            f"| {r['throughput_per_s']:,.0f} | {fmt_us(r['latency_us']['p50'])} "
            f"| {fmt_us(r['latency_us']['p99'])} | {fmt_us(r['latency_us']['p999'])} "
            f"| {errs} / {r['non_2xx']} | {cpu} | {r['machine_busy_pct']:.0f}% |"
        )
    out.append("")
    out.append("| derived | c | p50 | p99 |")
    out.append("| --- | ---: | ---: | ---: |")
    for c, d in derived.items():
        out.append(
            f"| overhead per turn (governed − 2 × direct) | {c} "
            f"| {fmt_us(d['overhead_per_turn_p50_us'])} | {fmt_us(d['overhead_per_turn_p99_us'])} |"
        )
        out.append(
            f"| nginx hop cost (hop − direct) | {c} "
            f"| {fmt_us(d['nginx_hop_cost_p50_us'])} | {fmt_us(d['nginx_hop_cost_p99_us'])} |"
        )
        out.append(
            f"| ratio (overhead / 2 calls ÷ hop cost) | {c} "
            f"| {ratio(d['ratio_p50'])} | {ratio(d['ratio_p99'])} |"
        )
        for variant, short in VARIANTS.items():
            key = f"overhead_per_turn_p50_us_{variant}"
            if key in d:
                out.append(
                    f"| overhead per turn, {short} | {c} "
                    f"| {fmt_us(d[key])} | {fmt_us(d[f'overhead_per_turn_p99_us_{variant}'])} |"
                )
    out.append("")
    out.append(
        "| where a governed turn's time goes (means, from wrk and /metrics) | c "
        "| client-seen | in-app turn | provider (2 calls) | in-app non-provider |"
    )
    out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in runs:
        m = r["in_app_metrics"]
        if m:
            out.append(
                f"| {LABELS.get(r['target'], r['target'])} | {r['connections']} "
                f"| {fmt_us(r['latency_us']['mean'])} | {fmt_us(m['turn_mean_us'])} "
                f"| {fmt_us(m['provider_mean_us'])} | {fmt_us(m['non_provider_mean_us'])} |"
            )
    for r in runs:
        if r["pg_waits"]:
            waits = ", ".join(f"{k} {v}" for k, v in r["pg_waits"]["mean_backends"].items())
            out.append("")
            out.append(
                f"Postgres backends of {r['target']} c={r['connections']} "
                f"(mean per sample, {r['pg_waits']['samples']} samples): {waits}"
            )
    out.append("")
    line = (
        f"Peak RSS (VmHWM) of governed-chat with Postgres after all its runs: "
        f"{rss_mb:.1f} MB" if rss_mb is not None else "Peak RSS: n/a"
    )
    if "peak_rss_kb_no_db" in facts:
        line += f"; in-memory store: {int(facts['peak_rss_kb_no_db']) / 1024:.1f} MB"
    out.append(line)
    out[-1] += (
        f". Rows in `requests`: {facts.get('rows_written')} ({facts.get('rows_by_outcome')}); "
        f"sessions: {facts.get('sessions_rows')}."
    )
    out.append("")
    out.append("| target | measured | met? | |")
    out.append("| --- | ---: | --- | --- |")
    for t in targets:
        out.append(
            f"| {t['target']} | {t['measured']} | {'met' if t['met'] else '**missed**'} | {t['margin']} |"
        )
    print("\n".join(out))


if __name__ == "__main__":
    main()
