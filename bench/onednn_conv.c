// oneDNN's own speed on every 3x3 convolution shape of the roofline table (docs/perf.md, issue
// 20 item 2, "oneDNN as a dependency"): what a binding of pgl's convolutions to oneDNN could
// reach, measured without a framework around it. Run by bench/onednn.sh; not part of CI.
//
// For each shape (batch 128, padding 1) it times, in GFLOP/s counted as the roofline table does
// (forward 2*N*Cout*OH*OW*Cin*9, forward + backward three times that):
//   - "nchw": what pgl would see through a binding — tensors stay in Burn's NCHW layout, so
//     every call reorders its operands into the layout oneDNN chose (format `any`) and its
//     result back;
//   - "blocked": the primitives alone, operands already in oneDNN's layouts (a ceiling: a
//     network whose activations stayed in oneDNN's layout between layers).
// Threads: OpenMP's (OMP_NUM_THREADS). Output: one JSON object per line.
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call)                                                             \
    do {                                                                        \
        dnnl_status_t status_ = (call);                                         \
        if (status_ != dnnl_success) {                                          \
            fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #call, \
                    (int)status_);                                              \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

enum { BATCH = 128, MAX_STEPS = 16 };

static dnnl_engine_t engine;
static dnnl_stream_t stream;

// One primitive call: the primitive and its arguments.
typedef struct {
    dnnl_primitive_t primitive;
    dnnl_exec_arg_t args[4];
    int nargs;
} step_t;

// A sequence of calls timed as one pass.
typedef struct {
    step_t steps[MAX_STEPS];
    int count;
} pass_t;

static dnnl_memory_t memory(const dnnl_memory_desc_t *md) {
    dnnl_memory_t m;
    CHECK(dnnl_memory_create(&m, md, engine, DNNL_MEMORY_ALLOCATE));
    return m;
}

static void push(pass_t *pass, dnnl_primitive_t primitive, int nargs, const dnnl_exec_arg_t *args) {
    step_t *step = &pass->steps[pass->count++];
    step->primitive = primitive;
    step->nargs = nargs;
    for (int i = 0; i < nargs; i++) step->args[i] = args[i];
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void run(const pass_t *pass) {
    for (int i = 0; i < pass->count; i++)
        CHECK(dnnl_primitive_execute(pass->steps[i].primitive, stream, pass->steps[i].nargs,
                                     pass->steps[i].args));
    CHECK(dnnl_stream_wait(stream));
}

// Median seconds of one pass over several timed repetitions.
static double timed(const pass_t *pass) {
    for (int i = 0; i < 3; i++) run(pass);
    double samples[15];
    int n = 0;
    double start = seconds();
    while (n < 15 && (n < 5 || seconds() - start < 2.0)) {
        double t0 = seconds();
        run(pass);
        samples[n++] = seconds() - t0;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && samples[j] < samples[j - 1]; j--) {
            double s = samples[j];
            samples[j] = samples[j - 1];
            samples[j - 1] = s;
        }
    return samples[n / 2];
}

// Adds to `pass` a reorder from `from` into `to` (both allocated).
static void convert(pass_t *pass, dnnl_memory_t from, dnnl_memory_t to) {
    const dnnl_memory_desc_t *a, *b;
    CHECK(dnnl_memory_get_memory_desc(from, &a));
    CHECK(dnnl_memory_get_memory_desc(to, &b));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_reorder_primitive_desc_create(&pd, a, engine, b, engine, NULL));
    dnnl_primitive_t reorder;
    CHECK(dnnl_primitive_create(&reorder, pd));
    CHECK(dnnl_primitive_desc_destroy(pd));
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    push(pass, reorder, 2, args);
}

// `user` itself when `want` is its layout, else fresh memory of layout `want`; `*differs`
// says which.
static dnnl_memory_t like(dnnl_memory_t user, const dnnl_memory_desc_t *want, int *differs) {
    const dnnl_memory_desc_t *have;
    CHECK(dnnl_memory_get_memory_desc(user, &have));
    *differs = !dnnl_memory_desc_equal(have, want);
    return *differs ? memory(want) : user;
}

static void shape(const char *model, int c, int side, int o, int stride) {
    int out = (side + 2 - 3) / stride + 1;
    dnnl_dims_t src_dims = {BATCH, c, side, side}, wei_dims = {o, c, 3, 3},
                dst_dims = {BATCH, o, out, out}, strides = {stride, stride}, pad = {1, 1};
    dnnl_memory_desc_t src_user, wei_user, dst_user, src_any, wei_any, dst_any;
    CHECK(dnnl_memory_desc_init_by_tag(&src_user, 4, src_dims, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&wei_user, 4, wei_dims, dnnl_f32, dnnl_oihw));
    CHECK(dnnl_memory_desc_init_by_tag(&dst_user, 4, dst_dims, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&wei_any, 4, wei_dims, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, dnnl_format_tag_any));

    dnnl_convolution_desc_t fwd_d, bwd_data_d, bwd_wei_d;
    CHECK(dnnl_convolution_forward_desc_init(&fwd_d, dnnl_forward_training,
                                             dnnl_convolution_direct, &src_any, &wei_any, NULL,
                                             &dst_any, strides, pad, pad));
    CHECK(dnnl_convolution_backward_data_desc_init(&bwd_data_d, dnnl_convolution_direct,
                                                   &src_any, &wei_any, &dst_any, strides, pad,
                                                   pad));
    CHECK(dnnl_convolution_backward_weights_desc_init(&bwd_wei_d, dnnl_convolution_direct,
                                                      &src_any, &wei_any, NULL, &dst_any,
                                                      strides, pad, pad));
    dnnl_primitive_desc_t fwd_pd, bwd_data_pd, bwd_wei_pd;
    CHECK(dnnl_primitive_desc_create(&fwd_pd, &fwd_d, NULL, engine, NULL));
    CHECK(dnnl_primitive_desc_create(&bwd_data_pd, &bwd_data_d, NULL, engine, fwd_pd));
    CHECK(dnnl_primitive_desc_create(&bwd_wei_pd, &bwd_wei_d, NULL, engine, fwd_pd));
    dnnl_primitive_t fwd, bwd_data, bwd_wei;
    CHECK(dnnl_primitive_create(&fwd, fwd_pd));
    CHECK(dnnl_primitive_create(&bwd_data, bwd_data_pd));
    CHECK(dnnl_primitive_create(&bwd_wei, bwd_wei_pd));
    const char *impl = "?";
    CHECK(dnnl_primitive_desc_query(fwd_pd, dnnl_query_impl_info_str, 0, &impl));

    // The user's tensors, in NCHW / OIHW.
    dnnl_memory_t src = memory(&src_user), wei = memory(&wei_user), dst = memory(&dst_user),
                  diff_dst = memory(&dst_user), diff_src = memory(&src_user),
                  diff_wei = memory(&wei_user);
    // Fill the inputs with small values (the speed does not depend on them, denormals aside).
    dnnl_memory_t inputs[3] = {src, wei, diff_dst};
    for (int i = 0; i < 3; i++) {
        float *data;
        CHECK(dnnl_memory_get_data_handle(inputs[i], (void **)&data));
        const dnnl_memory_desc_t *md;
        CHECK(dnnl_memory_get_memory_desc(inputs[i], &md));
        size_t n = dnnl_memory_desc_get_size(md) / sizeof(float);
        for (size_t k = 0; k < n; k++) data[k] = (float)((k * 2654435761u) % 1000) * 1e-3f - 0.5f;
    }

    pass_t nchw_fwd = {0}, nchw_all = {0}, blocked_fwd = {0}, blocked_all = {0};
    int d;
    // Forward: src, weights into the primitive's layouts; dst back.
    const dnnl_memory_desc_t *f_src = dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *f_wei = dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *f_dst = dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_dst_md, 0);
    pass_t *both[2] = {&nchw_fwd, &nchw_all};
    dnnl_memory_t fs = like(src, f_src, &d);
    for (int i = 0; d && i < 2; i++) convert(both[i], src, fs);
    dnnl_memory_t fw = like(wei, f_wei, &d);
    for (int i = 0; d && i < 2; i++) convert(both[i], wei, fw);
    int dst_differs;
    dnnl_memory_t fd = like(dst, f_dst, &dst_differs);
    dnnl_exec_arg_t fwd_args[3] = {{DNNL_ARG_SRC, fs}, {DNNL_ARG_WEIGHTS, fw}, {DNNL_ARG_DST, fd}};
    for (int i = 0; i < 2; i++) push(both[i], fwd, 3, fwd_args);
    for (int i = 0; dst_differs && i < 2; i++) convert(both[i], fd, dst);
    push(&blocked_fwd, fwd, 3, fwd_args);
    push(&blocked_all, fwd, 3, fwd_args);

    // Backward data: diff_dst and weights in, diff_src back.
    const dnnl_memory_desc_t *bd_dd = dnnl_primitive_desc_query_md(bwd_data_pd, dnnl_query_diff_dst_md, 0);
    const dnnl_memory_desc_t *bd_wei = dnnl_primitive_desc_query_md(bwd_data_pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *bd_ds = dnnl_primitive_desc_query_md(bwd_data_pd, dnnl_query_diff_src_md, 0);
    dnnl_memory_t bdd = like(diff_dst, bd_dd, &d);
    if (d) convert(&nchw_all, diff_dst, bdd);
    dnnl_memory_t bw = like(wei, bd_wei, &d);
    if (d) convert(&nchw_all, wei, bw);
    int ds_differs;
    dnnl_memory_t bds = like(diff_src, bd_ds, &ds_differs);
    dnnl_exec_arg_t bd_args[3] = {
        {DNNL_ARG_DIFF_DST, bdd}, {DNNL_ARG_WEIGHTS, bw}, {DNNL_ARG_DIFF_SRC, bds}};
    push(&nchw_all, bwd_data, 3, bd_args);
    if (ds_differs) convert(&nchw_all, bds, diff_src);
    push(&blocked_all, bwd_data, 3, bd_args);

    // Backward weights: src and diff_dst in, diff_weights back.
    const dnnl_memory_desc_t *bw_src = dnnl_primitive_desc_query_md(bwd_wei_pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *bw_dd = dnnl_primitive_desc_query_md(bwd_wei_pd, dnnl_query_diff_dst_md, 0);
    const dnnl_memory_desc_t *bw_dw = dnnl_primitive_desc_query_md(bwd_wei_pd, dnnl_query_diff_weights_md, 0);
    dnnl_memory_t ws = like(src, bw_src, &d);
    if (d) convert(&nchw_all, src, ws);
    dnnl_memory_t wdd = like(diff_dst, bw_dd, &d);
    if (d) convert(&nchw_all, diff_dst, wdd);
    int dw_differs;
    dnnl_memory_t wdw = like(diff_wei, bw_dw, &dw_differs);
    dnnl_exec_arg_t bw_args[3] = {
        {DNNL_ARG_SRC, ws}, {DNNL_ARG_DIFF_DST, wdd}, {DNNL_ARG_DIFF_WEIGHTS, wdw}};
    push(&nchw_all, bwd_wei, 3, bw_args);
    if (dw_differs) convert(&nchw_all, wdw, diff_wei);
    push(&blocked_all, bwd_wei, 3, bw_args);

    double forward = 2.0 * BATCH * o * out * out * c * 9;
    printf("{\"shape\": \"%s-%dx%d-to-%d-s%d\", \"impl\": \"%s\", "
           "\"nchw_forward\": %.1f, \"nchw_forward_backward\": %.1f, "
           "\"blocked_forward\": %.1f, \"blocked_forward_backward\": %.1f}\n",
           model, c, side, o, stride, impl, forward / timed(&nchw_fwd) * 1e-9,
           3 * forward / timed(&nchw_all) * 1e-9, forward / timed(&blocked_fwd) * 1e-9,
           3 * forward / timed(&blocked_all) * 1e-9);
    fflush(stdout);
}

int main(void) {
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    // The shapes of pgl-burn/benches/roofline.rs (model, Cin, side, Cout, stride).
    shape("cnn", 1, 28, 16, 1);
    shape("cnn", 16, 28, 16, 2);
    shape("cnn", 16, 14, 32, 1);
    shape("cnn", 32, 14, 32, 2);
    shape("cnn", 32, 7, 64, 1);
    shape("cnn", 64, 7, 64, 1);
    shape("cnn", 64, 7, 64, 2);
    shape("cnn", 64, 4, 64, 1);
    shape("resnet32", 3, 32, 16, 1);
    shape("resnet32", 16, 32, 16, 1);
    shape("resnet32", 16, 32, 32, 2);
    shape("resnet32", 32, 16, 32, 1);
    shape("resnet32", 32, 16, 64, 2);
    shape("resnet32", 64, 8, 64, 1);
    return 0;
}
