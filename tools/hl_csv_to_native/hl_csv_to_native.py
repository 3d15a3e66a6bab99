#!/usr/bin/python3
"""Converts a Hyperliquid account-level fills export (CSV) to segmentd's native NDJSON format.

    /usr/bin/python3 tools/hl_csv_to_native/hl_csv_to_native.py INPUT.csv OUTPUT.ndjson

The export this reads (../shared/data/real/README.md) has the columns Account, Coin, Execution
Price, Size Tokens, Size USD, Side, Timestamp IST, Start Position, Direction, Closed PnL,
Transaction Hash, Order ID, Crossed, Fee, Trade ID, Timestamp. What each becomes
(protocol/README.md, "The native fill format"):

  - ts_ns: `Timestamp IST` (dd-mm-yyyy HH:MM, UTC+05:30) in UTC. The export keeps only the
    minute, so every fill of a minute has the same ts_ns. `Timestamp` and `Trade ID` were mangled
    into scientific notation upstream and are not used.
  - venue "hyperliquid", symbol = Coin ("BTC" perpetual, "@107" spot pair by index).
  - side = Side (BUY/SELL), qty = Size Tokens, price = Execution Price. notional_usd is left
    out: the parser takes qty × price for a USD-quoted instrument, exactly (Size USD is rounded
    to the cent).
  - liquidity: Crossed TRUE = taker, FALSE = maker.
  - fee_usd: Fee in USD. Hyperliquid charges a spot buy's fee in the bought token (the next
    fill's Start Position is the previous one + Size Tokens − Fee), so for a spot buy it is
    Fee × Execution Price; every other fee is in USDC.
  - trade_id: "hl-csv:<line>" (the line of the CSV): the export has no usable trade id.

The fills are written in time order; fills of the same minute keep the file's order (a stable
sort). A row whose size or price is not a positive number is left out and counted on stderr.

With --positions the venue's word on positions goes in too (protocol/README.md, "Position
records"): `Start Position` is the account's position on the coin just before the fill, so
wherever it is not what the fills before it add up to (the coin's first fill, a fill missing from
the export, a spot buy's fee taken out of the bought token) a position record states it, as of
1 ns before the fill's minute; after each coin's last fill a record states the position the
fills leave (its Start Position plus the fill). Such a record's underlying_price is the fill's
execution price.
"""

import argparse
import csv
import datetime
import json
import sys

IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))


def ts_ns_of(ist_text):
    """`dd-mm-yyyy HH:MM` in UTC+05:30 → nanoseconds since the Unix epoch."""
    t = datetime.datetime.strptime(ist_text.strip(), "%d-%m-%Y %H:%M").replace(tzinfo=IST)
    return int(t.timestamp()) * 1_000_000_000


def is_spot(coin):
    return coin.startswith("@") or "/" in coin


def convert_row(row, line):
    """The native fill of one CSV row, or None when the row cannot be a fill."""
    qty = float(row["Size Tokens"])
    price = float(row["Execution Price"])
    if not (qty > 0 and price > 0):
        return None
    side = row["Side"].strip().upper()
    if side not in ("BUY", "SELL"):
        return None
    coin = row["Coin"].strip()
    fill = {
        "ts_ns": ts_ns_of(row["Timestamp IST"]),
        "venue": "hyperliquid",
        "account": row["Account"].strip(),
        "symbol": coin,
        "side": side.lower(),
        # Written as the shortest text of the double (json): the parser reads back the same double.
        "qty": qty,
        "price": price,
        "liquidity": "taker" if row["Crossed"].strip().upper() == "TRUE" else "maker",
        "trade_id": "hl-csv:%d" % line,
    }
    fee_text = row.get("Fee", "").strip()
    if fee_text:
        fee = float(fee_text)
        fill["fee_usd"] = fee * price if is_spot(coin) and side == "BUY" else fee
    return fill


def position_record(fill, qty, venue_ts_ns):
    return {"record": "position", "ts_ns": fill["ts_ns"], "venue_ts_ns": venue_ts_ns, "venue": "hyperliquid",
            "account": fill["account"], "symbol": fill["symbol"], "qty": qty, "underlying_price": fill["price"]}


def with_positions(fills, rows):
    """The fills with the venue's position records (see --positions), in time order."""
    out, running, last = [], {}, {}
    for fill, row in zip(fills, rows):
        key = (fill["account"], fill["symbol"])
        start = float(row["Start Position"])
        if key not in running or abs(start - running[key]) > 1e-9 * max(1.0, abs(start)):
            if key in running or start != 0.0:
                out.append(position_record(fill, start, fill["ts_ns"] - 1))
        q = fill["qty"] if fill["side"] == "buy" else -fill["qty"]
        if is_spot(fill["symbol"]) and fill["side"] == "buy" and row.get("Fee", "").strip():
            after = start + q - float(row["Fee"])  # the fee is taken out of the bought token
        else:
            after = start + q
        running[key] = after
        last[key] = fill
        out.append(fill)
    for key, fill in last.items():
        out.append(position_record(fill, running[key], fill["ts_ns"]))
    out.sort(key=lambda x: x["ts_ns"])  # stable
    return out


def convert(csv_path, out_path, positions=False):
    """Returns (fills written, rows skipped)."""
    fills = []
    rows = []
    skipped = 0
    with open(csv_path, newline="", encoding="utf-8") as f:
        # Line 1 is the header: the first data row is line 2.
        for line, row in enumerate(csv.DictReader(f), start=2):
            fill = convert_row(row, line)
            if fill is None:
                skipped += 1
                print("%s:%d: not a fill (size %r, price %r, side %r): left out" %
                      (csv_path, line, row.get("Size Tokens"), row.get("Execution Price"), row.get("Side")),
                      file=sys.stderr)
                continue
            fills.append(fill)
            rows.append(row)
    order = sorted(range(len(fills)), key=lambda i: fills[i]["ts_ns"])  # stable: a minute keeps the file's order
    fills = [fills[i] for i in order]
    lines = with_positions(fills, [rows[i] for i in order]) if positions else fills
    with open(out_path, "w", encoding="utf-8") as out:
        for fill in lines:
            out.write(json.dumps(fill, separators=(",", ":")))
            out.write("\n")
    return len(fills), skipped


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="the Hyperliquid CSV export")
    ap.add_argument("output", help="the native NDJSON file to write")
    ap.add_argument("--positions", action="store_true",
                    help="also write the venue's positions (Start Position) as position records")
    args = ap.parse_args()
    written, skipped = convert(args.input, args.output, args.positions)
    print("%d fills written, %d rows left out" % (written, skipped), file=sys.stderr)


if __name__ == "__main__":
    main()
