/* Run a program as it would run on an AVX2-only CPU (an AMD Zen 2 or an Intel laptop chip), on a
 * CPU that has AVX-512: every library in the process (ONNX Runtime's MLAS, oneDNN, MKL, numpy,
 * OpenCV) then picks its AVX2 kernels, not only torch's own.
 *
 * How: Linux's CPUID faulting (arch_prctl(ARCH_SET_CPUID, 0), the CPU flag "cpuid_fault") makes
 * the CPUID instruction trap. The SIGSEGV handler below runs the real CPUID, clears the features
 * an AVX2-only CPU lacks (AVX-512 and its extensions, AVX-VNNI, AMX, GFNI/VAES/VPCLMULQDQ) and
 * resumes after the instruction. The setting is inherited by every thread the process starts.
 *
 * Build: gcc -O2 -shared -fPIC -o hide_avx512.so hide_avx512.c -ldl
 * Use:   LD_PRELOAD=$PWD/hide_avx512.so program...   (benchmarks/avx2_only/run does both)
 * HIDE_AVX512_VERBOSE=1 prints how many CPUID instructions were answered when the process exits.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static struct sigaction previous; /* the program's own SIGSEGV handler, kept behind ours */
static volatile unsigned long answered;
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

static int cpuid_faults(int on) { return (int)syscall(SYS_arch_prctl, ARCH_SET_CPUID, on ? 0 : 1); }

static void hide(unsigned leaf, unsigned sub, unsigned *a, unsigned *b, unsigned *c, unsigned *d) {
    if (leaf == 7 && sub == 0) {
        /* EBX: AVX512F 16, DQ 17, IFMA 21, PF 26, ER 27, CD 28, BW 30, VL 31 */
        *b &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31));
        /* ECX: VBMI 1, VBMI2 6, GFNI 8, VAES 9, VPCLMULQDQ 10, VNNI 11, BITALG 12, VPOPCNTDQ 14 */
        *c &= ~((1u << 1) | (1u << 6) | (1u << 8) | (1u << 9) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 14));
        /* EDX: 4VNNIW 2, 4FMAPS 3, VP2INTERSECT 8, AMX-BF16 22, FP16 23, AMX-TILE 24, AMX-INT8 25 */
        *d &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25));
    } else if (leaf == 7 && sub == 1) {
        /* EAX: AVX-VNNI 4, AVX512_BF16 5, AVX-IFMA 23 */
        *a &= ~((1u << 4) | (1u << 5) | (1u << 23));
        /* EDX: AVX-VNNI-INT8 4, AVX-NE-CONVERT 5, AVX10 19 */
        *d &= ~((1u << 4) | (1u << 5) | (1u << 19));
    } else if (leaf == 0x1d || leaf == 0x1e || leaf == 0x24) {
        *a = *b = *c = *d = 0; /* AMX tile and AVX10 leaves */
    }
}

static void on_segv(int sig, siginfo_t *info, void *context) {
    ucontext_t *uc = (ucontext_t *)context;
    greg_t *r = uc->uc_mcontext.gregs;
    /* A faulting CPUID is a general-protection fault: SI_KERNEL, not a page fault. */
    if (info->si_code == SI_KERNEL) {
        const unsigned char *ip = (const unsigned char *)r[REG_RIP];
        if (ip[0] == 0x0f && ip[1] == 0xa2) {
            unsigned leaf = (unsigned)r[REG_RAX], sub = (unsigned)r[REG_RCX], a, b, c, d;
            cpuid_faults(0);
            __cpuid_count(leaf, sub, a, b, c, d);
            cpuid_faults(1);
            hide(leaf, sub, &a, &b, &c, &d);
            r[REG_RAX] = a;
            r[REG_RBX] = b;
            r[REG_RCX] = c;
            r[REG_RDX] = d;
            r[REG_RIP] += 2;
            answered++;
            return;
        }
    }
    /* Not ours: the program's handler gets it (Python's faulthandler, say); with none, the process dies as
     * it would have, the fault repeating once our handler is out of the way. */
    if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) {
        previous.sa_sigaction(sig, info, context);
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
    } else {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        real_sigaction(sig, &dfl, NULL);
    }
}

/* A program that installs its own SIGSEGV handler after start-up (Python's faulthandler, pytest) would
 * take the trap away from on_segv, and its next CPUID would kill it: its handler is kept behind ours. */
int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
    if (!real_sigaction) real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
    if (sig != SIGSEGV) return real_sigaction(sig, act, old);
    if (old) *old = previous;
    if (act) previous = *act;
    return 0;
}

static void report(void) {
    if (getenv("HIDE_AVX512_VERBOSE")) fprintf(stderr, "hide_avx512: %lu CPUID instructions answered\n", answered);
}

__attribute__((constructor)) static void start(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
    if (!real_sigaction || real_sigaction(SIGSEGV, &sa, &previous) != 0 || cpuid_faults(1) != 0) {
        fprintf(stderr, "hide_avx512: this CPU or kernel has no CPUID faulting (flag cpuid_fault); "
                        "AVX-512 cannot be hidden here\n");
        _exit(3);
    }
    atexit(report);
}
