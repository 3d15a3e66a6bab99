#!/usr/bin/python3
"""Our online clusterer next to scikit-learn on the same feature matrix, on one core.

Runs eval_clusterer (which generates planted blobs, or reads --input, writes data.csv and runs
our clusterer at the given batch size), then on the same rows in the same order:
  * MiniBatchKMeans.partial_fit, one pass, batch by batch (the online baseline),
  * KMeans.fit on all rows (the offline reference for inertia).
Prints the throughput of each (process CPU time, as the machine is shared; wall time alongside), our throughput ratio to partial_fit, inertia relative to full
KMeans (all inertias measured the same way: raw units, nearest centroid), and the ARI of each
against the true labels, with the bench/README.md, "Current results" goals.

Must run with Debian's python (/usr/bin/python3, python3-sklearn 1.2.1). Pins itself and the C++
binary to one core (--cpu) and to one BLAS/OpenMP thread.

  /usr/bin/python3 tools/eval_clusterer/compare_sklearn.py \
      --binary build/release/eval_clusterer --n 200000 --seed 42 --cpu 1
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# One thread for every numeric library, set before numpy/sklearn are imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default="build/release/eval_clusterer", help="path to eval_clusterer")
    p.add_argument("--n", type=int, default=200000, help="rows to generate")
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--std", type=float, default=1.0, help="blob standard deviation")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--cpu", type=int, default=1, help="the core everything is pinned to")
    p.add_argument("--repeat", type=int, default=3, help="timed runs of each online method; best is kept")
    p.add_argument("--input", help="CSV (16 features, label) instead of generated blobs")
    p.add_argument("--out", help="working directory (default: a temporary one)")
    return p.parse_args()


def run_ours(args, out):
    cmd = ["taskset", "-c", str(args.cpu), args.binary, "--out", out, "--n", str(args.n), "--k", str(args.k),
           "--std", str(args.std), "--seed", str(args.seed), "--batch", str(args.batch)]
    if args.input:
        cmd += ["--input", args.input]
    best = None
    for _ in range(args.repeat):
        res = subprocess.run(cmd, check=True, capture_output=True, text=True)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        if best is None or r["seconds"] < best["seconds"]:
            best = r
        if not args.input:  # later runs read the same matrix back instead of regenerating it
            cmd += ["--input", os.path.join(out, "data.csv")]
            args.input = os.path.join(out, "data.csv")
    return best, cmd


def main():
    args = parse_args()
    os.sched_setaffinity(0, {args.cpu})
    import numpy as np
    import sklearn
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.metrics import adjusted_rand_score
    from threadpoolctl import threadpool_limits
    import warnings
    warnings.filterwarnings("ignore", category=FutureWarning)  # n_init default change notice

    out = args.out or tempfile.mkdtemp(prefix="eval_clusterer_")
    os.makedirs(out, exist_ok=True)
    ours, cmd = run_ours(args, out)

    data = np.loadtxt(os.path.join(out, "data.csv"), delimiter=",", skiprows=1)
    X = np.ascontiguousarray(data[:, :16])
    y = data[:, 16].astype(np.int64)
    n = X.shape[0]
    batches = [X[i:i + args.batch] for i in range(0, n, args.batch)]

    def inertia(centres):
        d = ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        return float(d.min(axis=1).sum())

    with threadpool_limits(limits=1):
        mb_best, mb = None, None
        for _ in range(args.repeat):
            m = MiniBatchKMeans(n_clusters=args.k, batch_size=args.batch, random_state=args.seed, n_init=3)
            t0, w0 = time.process_time(), time.perf_counter()
            for b in batches:
                m.partial_fit(b)
            dt, wall = time.process_time() - t0, time.perf_counter() - w0
            if mb_best is None or dt < mb_best:
                mb_best, mb, mb_wall = dt, m, wall
        t0, w0 = time.process_time(), time.perf_counter()
        km = KMeans(n_clusters=args.k, n_init=10, random_state=args.seed).fit(X)
        km_time, km_wall = time.process_time() - t0, time.perf_counter() - w0

    ours_centres = np.loadtxt(os.path.join(out, "ours_centroids.csv"), delimiter=",", ndmin=2)
    ours_labels = np.loadtxt(os.path.join(out, "ours_labels.csv"), dtype=np.int64)
    ref = inertia(km.cluster_centers_)
    rows = [
        ("segmentd Clusterer.update", n / ours["seconds"], n / ours["wall_seconds"], inertia(ours_centres),
         adjusted_rand_score(y, ours_labels)),
        ("sklearn MiniBatchKMeans.partial_fit", n / mb_best, n / mb_wall, inertia(mb.cluster_centers_),
         adjusted_rand_score(y, mb.predict(X))),
        ("sklearn KMeans.fit (n_init=10)", n / km_time, n / km_wall, ref, adjusted_rand_score(y, km.labels_)),
    ]
    ratio = rows[0][1] / rows[1][1]
    rel = rows[0][3] / ref - 1.0

    print(f"data: n={n} d=16 k={args.k} std={args.std} seed={args.seed} batch={args.batch}; "
          f"sklearn {sklearn.__version__}, numpy {np.__version__}; pinned to cpu {args.cpu}, 1 thread")
    print(f"ours: {' '.join(cmd)}")
    print("rows/s and us/batch from process CPU time (the machine is shared); wall-clock rows/s alongside")
    print(f"{'method':40s} {'rows/s':>12s} {'us/batch':>10s} {'wall rows/s':>12s} {'inertia':>14s} {'vs KMeans':>10s} "
          f"{'ARI':>7s}")
    for name, rate, wall_rate, inert, ari in rows:
        print(f"{name:40s} {rate:12,.0f} {args.batch / rate * 1e6:10.1f} {wall_rate:12,.0f} {inert:14.1f} "
              f"{inert / ref - 1:+10.3%} {ari:7.4f}")
    print()
    goals = [
        ("throughput >= 2x partial_fit", ratio >= 2.0, f"{ratio:.1f}x"),
        ("inertia within 2% of full KMeans", rel <= 0.02, f"{rel:+.3%}"),
        ("ARI >= 0.95 vs true labels", rows[0][4] >= 0.95, f"{rows[0][4]:.4f}"),
    ]
    for goal, ok, value in goals:
        print(f"{'PASS' if ok else 'FAIL'}  {goal}: {value}")
    return 0 if all(ok for _, ok, _ in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
