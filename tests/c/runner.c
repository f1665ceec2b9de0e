/*
 * runner.c: runs the scenarios of crvtest. The library is a process singleton, so
 * every role of a scenario (one user each) runs in its own process: this program
 * re-executes itself as `crvtest --role SCENARIO ROLE` for each. A role passes when
 * it exits 0 having written nothing to stdout or stderr (the library must never
 * write there; the harness writes only on failure).
 *
 *   crvtest [SCENARIO...]      run the given scenarios (default: all)
 *   crvtest --list             list them
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "scenarios.h"

extern char **environ;

static void print_file(const char *path, const char *indent)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        printf("%s%s", indent, line);
    fclose(f);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* run_scenario spawns every role and waits; returns 1 when all passed. */
static int run_scenario(const scenario_t *sc, const char *self, const char *tmp)
{
    char sync[512], out[sc->nroles][600];
    pid_t pids[8];
    int ok = 1;
    long t0 = h_now_ms();

    snprintf(sync, sizeof sync, "%s/sync-%s", tmp, sc->name);
    mkdir(sync, 0700);
    setenv("CRV_SYNC", sync, 1);
    for (int r = 0; r < sc->nroles; r++) {
        posix_spawn_file_actions_t fa;
        snprintf(out[r], sizeof out[r], "%s/%s-%s.out", sync, sc->name, sc->roles[r].name);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, out[r], O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        char *argv[] = {(char *)self, "--role", (char *)sc->name, (char *)sc->roles[r].name, NULL};
        if (posix_spawn(&pids[r], self, &fa, NULL, argv, environ) != 0) {
            printf("    cannot spawn role %s\n", sc->roles[r].name);
            pids[r] = -1;
            ok = 0;
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    /* The roles to be killed are waited for last: once the others have ended, one
     * still alive (a stopped victim whose killer failed) is killed here and fails. */
    int sts[8] = {0}, leftover[8] = {0};
    for (int pass = 0; pass < 2; pass++)
        for (int r = 0; r < sc->nroles; r++) {
            if (pids[r] < 0 || sc->roles[r].killed != pass)
                continue;
            if (pass == 1 && waitpid(pids[r], &sts[r], WNOHANG) == 0) {
                leftover[r] = 1;
                kill(pids[r], SIGKILL);
            }
            if (pass == 0 || leftover[r])
                waitpid(pids[r], &sts[r], 0);
        }
    for (int r = 0; r < sc->nroles; r++) {
        int st = sts[r];
        if (pids[r] < 0)
            continue;
        if (leftover[r]) {
            ok = 0;
            printf("    role %s was still alive after the other roles ended: killed now\n", sc->roles[r].name);
            print_file(out[r], "    | ");
            continue;
        }
        int passed = WIFEXITED(st) && WEXITSTATUS(st) == 0 && file_size(out[r]) == 0;
        if (sc->roles[r].killed)
            passed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && file_size(out[r]) == 0;
        if (sc->expect_fail)
            passed = !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        if (!passed) {
            ok = 0;
            if (WIFSIGNALED(st))
                printf("    role %s killed by signal %d%s\n", sc->roles[r].name, WTERMSIG(st),
                       WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
            else if (sc->roles[r].killed && !WIFSIGNALED(st))
                printf("    role %s exited with %d, but was to be killed with SIGKILL\n", sc->roles[r].name, WEXITSTATUS(st));
            else if (WEXITSTATUS(st) == 0 && !sc->expect_fail)
                printf("    role %s wrote to stdout/stderr:\n", sc->roles[r].name);
            else
                printf("    role %s exited with %d\n", sc->roles[r].name, WEXITSTATUS(st));
            print_file(out[r], "    | ");
        } else if (sc->expect_fail) {
            /* The canary must fail for the right reason. */
            char cmd[800];
            snprintf(cmd, sizeof cmd, "grep -q '%s' '%s'", sc->expect_fail, out[r]);
            if (system(cmd) != 0) {
                ok = 0;
                printf("    role %s failed, but its output lacks \"%s\":\n", sc->roles[r].name, sc->expect_fail);
                print_file(out[r], "    | ");
            }
        }
    }
    char report[600];
    snprintf(report, sizeof report, "%s/report", sync);
    printf("%s %s (%ld ms): %s\n", ok ? "[ ok ]" : "[FAIL]", sc->name, h_now_ms() - t0, sc->doc);
    print_file(report, "       ");
    fflush(stdout);
    return ok;
}

/* check_coverage asserts that every callback ran at least once over the scenarios. */
static int check_coverage(const char *tmp)
{
    static const char *names[] = {
#define NAME(n) #n,
        CRV_EACH_CALLBACK(NAME)
#undef NAME
    };
    char path[600], line[128], name[100];
    int n = (int)(sizeof names / sizeof names[0]), missing = 0, code, codes[64], ncodes = 0;
    int *count = calloc((size_t)n, sizeof *count);
    snprintf(path, sizeof path, "%s/counts", tmp);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%99s %d", name, &code) != 2)
            continue;
        for (int k = 0; k < n; k++)
            if (strcmp(name, names[k]) == 0)
                count[k]++;
        /* callbacks whose int argument is a CRVIDEOSDK_ERR_DEF code */
        if (strstr(name, "Fail") || strstr(name, "Rslt") || strstr(name, "Rlst") ||
            strcmp(name, "lineOff") == 0 || strcmp(name, "notifyCallRejected") == 0) {
            int seen = 0;
            for (int k = 0; k < ncodes; k++)
                seen |= codes[k] == code;
            if (!seen && ncodes < 64)
                codes[ncodes++] = code;
        }
    }
    if (f)
        fclose(f);
    for (int k = 0; k < n; k++)
        if (count[k] == 0) {
            printf("    callback %s never ran\n", names[k]);
            missing++;
        }
    printf("%s coverage: %d of %d callbacks ran at least once across the scenarios\n",
           missing ? "[FAIL]" : "[ ok ]", n - missing, n);
    for (int a = 0; a < ncodes; a++) /* sort for the report */
        for (int b = a + 1; b < ncodes; b++)
            if (codes[b] < codes[a]) {
                int t = codes[a];
                codes[a] = codes[b];
                codes[b] = t;
            }
    printf("       %d distinct codes reached callbacks:", ncodes);
    for (int k = 0; k < ncodes; k++)
        printf(" %d", codes[k]);
    printf("\n");
    free(count);
    return missing == 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "--role") == 0) {
        const scenario_t *sc = find_scenario(argv[2]);
        if (!sc)
            return 2;
        for (int r = 0; r < sc->nroles; r++)
            if (strcmp(sc->roles[r].name, argv[3]) == 0) {
                h_scenario = sc->name;
                alarm(sc->timeout_s ? sc->timeout_s : 60);
                sc->roles[r].fn();
                char path[600];
                snprintf(path, sizeof path, "%s/counts", getenv("CRV_TMP"));
                if (!sc->expect_fail)
                    ev_dump_counts(path);
                ev_reset();
                return 0;
            }
        return 2;
    }
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (int k = 0; scenarios[k].name; k++)
            printf("%-12s %s\n", scenarios[k].name, scenarios[k].doc);
        return 0;
    }
    const char *tmp = getenv("CRV_TMP");
    if (!tmp) {
        fprintf(stderr, "crvtest: run through tests/run-c.sh (CRV_TMP, CRV_ADDR, CRV_ACNT, CRV_PSWD)\n");
        return 2;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 2;
    self[n] = 0;

    int passed = 0, failed = 0, all = argc == 1;
    for (int k = 0; scenarios[k].name; k++) {
        int want = all && !scenarios[k].named_only;
        for (int a = 1; a < argc; a++)
            want |= strcmp(argv[a], scenarios[k].name) == 0;
        if (!want)
            continue;
        if (run_scenario(&scenarios[k], self, tmp))
            passed++;
        else
            failed++;
    }
#if defined(__SANITIZE_ADDRESS__)
    if (all) {
        if (run_scenario(&leak_canary, self, tmp))
            passed++;
        else
            failed++;
    }
#endif
    if (all) {
        if (check_coverage(tmp))
            passed++;
        else
            failed++;
    }
    printf("crvtest: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
