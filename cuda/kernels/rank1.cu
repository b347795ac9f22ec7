// Kernels of package cuda: the top singular triplet of many LoRA modules at once, and the
// scatter of the rank-1 factors into flattened weight vectors.
//
// Compiled ahead of time to PTX for compute capability 5.2 (scripts/cuda-ptx.sh) so that any
// newer driver JIT-compiles it; the PTX is embedded in the Go package. The same source also
// compiles as plain C (cuda/internal/hostkernel), running each block on one thread, so the
// kernels' arithmetic is tested on machines without a GPU.

#ifdef __cplusplus
extern "C" {
#endif

// SHARED_RANK is the largest rank whose workspace (5·r² + 2·r doubles, 41.5 KB at 32)
// top_triplet keeps in shared memory; larger ranks use the global workspace.
#define SHARED_RANK 32

// MAX_PAIRS bounds the rotations of one parallel step of jacobi_eig (their cosines and sines
// live in shared memory); larger ranks run a step's rotations in chunks of this many.
#define MAX_PAIRS 256

// rr_pair returns pair k (0 ≤ k < m/2) of round s (0 ≤ s < m−1) of the round-robin over m
// (even) indices, with p < q: in every round each index is in exactly one pair, and over the
// m−1 rounds every pair occurs once (the circle method: m−1 is fixed, the rest rotate).
__device__ void rr_pair(int s, int k, int m, int* p, int* q)
{
    int x, y;
    if (k == 0) {
        x = s;
        y = m - 1;
    } else {
        x = (s + k) % (m - 1);
        y = (s - k + (m - 1)) % (m - 1);
    }
    *p = x < y ? x : y;
    *q = x < y ? y : x;
}

// Symmetric eigen-decomposition of the r×r row-major matrix a by Jacobi rotations in
// round-robin (parallel) order, run by the nt threads of a block together: each step applies
// up to r/2 rotations on disjoint index pairs at once, so a sweep is r−1 steps of three
// barriers instead of r(r−1)/2 rotations. On return the diagonal of a holds the eigenvalues
// and the columns of v the eigenvectors. flag is one shared double and cs 2·MAX_PAIRS shared
// doubles. Every thread of the block must call it.
__device__ void jacobi_eig(double* a, double* v, int r, int tid, int nt, double* flag, double* cs)
{
    for (int idx = tid; idx < r * r; idx += nt)
        v[idx] = (idx / r == idx % r) ? 1.0 : 0.0;
    int m = r + (r & 1); // an odd r gets a dummy index, whose pair is skipped
    int npairs = m / 2;
    for (int sweep = 0; sweep < 64; sweep++) {
        __syncthreads();
        if (tid == 0) {
            double off = 0.0, diag = 0.0;
            for (int i = 0; i < r; i++) {
                diag += a[i * r + i] * a[i * r + i];
                for (int j = i + 1; j < r; j++)
                    off += a[i * r + j] * a[i * r + j];
            }
            *flag = (off <= 1e-30 * diag || off == 0.0) ? 1.0 : 0.0;
        }
        __syncthreads();
        if (*flag != 0.0)
            break;
        for (int st = 0; st < m - 1; st++) {
            for (int k0 = 0; k0 < npairs; k0 += MAX_PAIRS) {
                int kn = npairs - k0 < MAX_PAIRS ? npairs - k0 : MAX_PAIRS;
                // The rotation of each pair, from the matrix before this step.
                for (int k = tid; k < kn; k += nt) {
                    int p, q;
                    rr_pair(st, k0 + k, m, &p, &q);
                    double c = 1.0, sn = 0.0;
                    if (q < r) {
                        double apq = a[p * r + q];
                        if (apq != 0.0) {
                            double theta = (a[q * r + q] - a[p * r + p]) / (2.0 * apq);
                            double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                            c = 1.0 / sqrt(t * t + 1.0);
                            sn = t * c;
                        }
                    }
                    cs[2 * k] = c;
                    cs[2 * k + 1] = sn;
                }
                __syncthreads();
                // A ← A·J: columns p and q of every row, for every pair.
                for (int idx = tid; idx < kn * r; idx += nt) {
                    int k = idx / r, i = idx % r;
                    double c = cs[2 * k], sn = cs[2 * k + 1];
                    if (sn == 0.0)
                        continue;
                    int p, q;
                    rr_pair(st, k0 + k, m, &p, &q);
                    double aip = a[i * r + p], aiq = a[i * r + q];
                    a[i * r + p] = c * aip - sn * aiq;
                    a[i * r + q] = sn * aip + c * aiq;
                }
                __syncthreads();
                // A ← Jᵀ·A: rows p and q; V ← V·J.
                for (int idx = tid; idx < kn * r; idx += nt) {
                    int k = idx / r, i = idx % r;
                    double c = cs[2 * k], sn = cs[2 * k + 1];
                    if (sn == 0.0)
                        continue;
                    int p, q;
                    rr_pair(st, k0 + k, m, &p, &q);
                    double api = a[p * r + i], aqi = a[q * r + i];
                    a[p * r + i] = c * api - sn * aqi;
                    a[q * r + i] = sn * api + c * aqi;
                    double vip = v[i * r + p], viq = v[i * r + q];
                    v[i * r + p] = c * vip - sn * viq;
                    v[i * r + q] = sn * vip + c * viq;
                }
                __syncthreads();
            }
        }
    }
    __syncthreads();
}

// block_matmul sets c = a·b for r×r row-major matrices, the entries spread over the nt
// threads of a block; c must not alias a or b. Callers synchronise before reading c.
__device__ void block_matmul(double* c, const double* a, const double* b, int r, int tid, int nt)
{
    for (int idx = tid; idx < r * r; idx += nt) {
        int i = idx / r, j = idx % r;
        double s = 0.0;
        for (int k = 0; k < r; k++)
            s += a[i * r + k] * b[k * r + j];
        c[idx] = s;
    }
}

// top_triplet: one block per module of rank r. Module b is ΔW = scale[b]·A·D with A (out×r,
// row-major, at up+upOff[b]) and D (r×in, row-major, at down+downOff[b]). Without forming
// ΔW it computes the Gram matrices Gu = AᵀA and Gd = D·Dᵀ (r×r), H = Gd^½, the top
// eigenpair (μ, w) of the symmetric S = H·Gu·H, and then
//   σ = |scale|·√μ,  y = H·w,  u = A·y/‖A·y‖,  v = scale·Dᵀ·Gu·y/(‖A·y‖·σ),
// since ΔW·ΔWᵀ·(A·y) = scale²·A·Gd·Gu·y = σ²·A·y. energy = scale²·tr(Gu·Gd) = ‖ΔW‖²_F.
// The r×r work (5·r² + 2·r doubles) is in shared memory for r ≤ SHARED_RANK, else in work
// (that many doubles per module). Every step is spread over the block's threads.
__global__ void top_triplet(const float* up, const float* down,
    const long long* upOff, const long long* downOff,
    const int* outDim, const int* inDim, const double* scale,
    int r, int nmod, double* work,
    double* sigma, double* energy, float* U, float* V,
    const long long* uOff, const long long* vOff)
{
    __shared__ double shw[5 * SHARED_RANK * SHARED_RANK + 2 * SHARED_RANK];
    __shared__ double sh[4];
    __shared__ double cs[2 * MAX_PAIRS];
    int b = blockIdx.x;
    if (b >= nmod)
        return;
    int tid = threadIdx.x, nt = blockDim.x;
    int out = outDim[b], in = inDim[b];
    const float* A = up + upOff[b];
    const float* D = down + downOff[b];
    double* w = (r <= SHARED_RANK) ? shw : work + (long long)b * (5 * r * r + 2 * r);
    double* Gu = w;
    double* Gd = w + r * r;
    double* E = w + 2 * r * r;
    double* H = w + 3 * r * r;
    double* S = w + 4 * r * r;
    double* y = w + 5 * r * r;
    double* t = y + r;
    int rr = r * r;

    for (int idx = tid; idx < rr; idx += nt) {
        int j = idx / r, k = idx % r;
        if (k < j)
            continue;
        double su = 0.0, sd = 0.0;
        for (int o = 0; o < out; o++)
            su += (double)A[(long long)o * r + j] * (double)A[(long long)o * r + k];
        for (int i = 0; i < in; i++)
            sd += (double)D[(long long)j * in + i] * (double)D[(long long)k * in + i];
        Gu[j * r + k] = su;
        Gu[k * r + j] = su;
        Gd[j * r + k] = sd;
        Gd[k * r + j] = sd;
    }
    __syncthreads();
    double sc = scale[b];
    if (tid == 0) {
        double en = 0.0;
        for (int i = 0; i < rr; i++)
            en += Gu[i] * Gd[i];
        energy[b] = sc * sc * en;
    }
    for (int i = tid; i < rr; i += nt)
        S[i] = Gd[i];
    jacobi_eig(S, E, r, tid, nt, &sh[2], cs); // Gd = E·diag(λ)·Eᵀ
    for (int idx = tid; idx < rr; idx += nt) {
        int i = idx / r, j = idx % r;
        double h = 0.0;
        for (int k = 0; k < r; k++) {
            double lam = S[k * r + k];
            h += E[i * r + k] * (lam > 0.0 ? sqrt(lam) : 0.0) * E[j * r + k];
        }
        H[idx] = h;
    }
    __syncthreads();
    // Gd ← Gu·H (energy has been read from Gd above), then S ← H·(Gu·H), symmetrised.
    block_matmul(Gd, Gu, H, r, tid, nt);
    __syncthreads();
    block_matmul(S, H, Gd, r, tid, nt);
    __syncthreads();
    for (int idx = tid; idx < rr; idx += nt) {
        int i = idx / r, j = idx % r;
        if (j <= i)
            continue;
        double m = 0.5 * (S[i * r + j] + S[j * r + i]);
        S[i * r + j] = m;
        S[j * r + i] = m;
    }
    jacobi_eig(S, E, r, tid, nt, &sh[2], cs);
    if (tid == 0) {
        int top = 0;
        for (int k = 1; k < r; k++)
            if (S[k * r + k] > S[top * r + top])
                top = k;
        double mu = S[top * r + top];
        for (int i = 0; i < r; i++) {
            double s = 0.0;
            for (int k = 0; k < r; k++)
                s += H[i * r + k] * E[k * r + top];
            y[i] = s;
        }
        double n2 = 0.0;
        for (int i = 0; i < r; i++) {
            double s = 0.0;
            for (int k = 0; k < r; k++)
                s += Gu[i * r + k] * y[k];
            t[i] = s;
            n2 += y[i] * s;
        }
        double sig = fabs(sc) * (mu > 0.0 ? sqrt(mu) : 0.0);
        double ny = n2 > 0.0 ? sqrt(n2) : 0.0;
        sigma[b] = sig;
        sh[0] = (ny > 0.0 && sig > 0.0) ? 1.0 / ny : 0.0;
        sh[1] = (ny > 0.0 && sig > 0.0) ? sc / (ny * sig) : 0.0;
    }
    __syncthreads();
    float* u = U + uOff[b];
    float* v = V + vOff[b];
    double fu = sh[0], fv = sh[1];
    for (int o = tid; o < out; o += nt) {
        double s = 0.0;
        for (int k = 0; k < r; k++)
            s += (double)A[(long long)o * r + k] * y[k];
        u[o] = (float)(s * fu);
    }
    for (int i = tid; i < in; i += nt) {
        double s = 0.0;
        for (int k = 0; k < r; k++)
            s += (double)D[(long long)k * in + i] * t[k];
        v[i] = (float)(s * fv);
    }
}

// scatter_rank1: for triplet m, writes √σ·sign·u and √σ·sign·v at dst[m] and dst[m] + len(u)
// of the flattened vectors; sign is +1 or −1 so that u points along ref (the per-module
// reference direction, at refOff[m] with refOff < 0 meaning none: then sign is +1).
__global__ void scatter_rank1(const double* sigma, const float* U, const float* V,
    const long long* uOff, const long long* vOff, const int* outDim, const int* inDim,
    const float* ref, const long long* refOff, const long long* dst, int n, float* vec)
{
    int m = blockIdx.x;
    if (m >= n)
        return;
    int tid = threadIdx.x, nt = blockDim.x;
    const float* u = U + uOff[m];
    const float* v = V + vOff[m];
    int out = outDim[m], in = inDim[m];
    __shared__ double part[256];
    double s = 0.0;
    if (refOff[m] >= 0) {
        const float* rf = ref + refOff[m];
        for (int o = tid; o < out; o += nt)
            s += (double)u[o] * (double)rf[o];
    }
    part[tid] = s;
    __syncthreads();
    for (int step = nt / 2; step > 0; step >>= 1) {
        if (tid < step)
            part[tid] += part[tid + step];
        __syncthreads();
    }
    float sign = part[0] < 0.0 ? -1.0f : 1.0f;
    float root = (float)sqrt(sigma[m]);
    float* d = vec + dst[m];
    for (int o = tid; o < out; o += nt)
        d[o] = sign * root * u[o];
    for (int i = tid; i < in; i += nt)
        d[out + i] = sign * root * v[i];
}

// add_f32_to_f64: acc[i] += x[i], for accumulating float32 GEMM blocks in float64.
__global__ void add_f32_to_f64(const float* x, double* acc, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (; i < n; i += stride)
        acc[i] += (double)x[i];
}

#ifdef __cplusplus
} // extern "C"
#endif
