/* scenarios.h: the table of crvtest scenarios (scenarios.c). */
#ifndef CRV_TEST_SCENARIOS_H
#define CRV_TEST_SCENARIOS_H

typedef struct {
    const char *name;
    void (*fn)(void);
    int killed; /* the scenario kills this role with SIGKILL: that is its pass */
} role_t;

typedef struct {
    const char *name;
    const char *doc;
    int nroles;
    role_t roles[4];
    int timeout_s;          /* per role; 60 when 0 */
    const char *expect_fail; /* canary: the role must fail, its output containing this */
    int named_only;          /* runs only when named on the command line (own server) */
} scenario_t;

extern const scenario_t scenarios[];
extern const scenario_t leak_canary;
const scenario_t *find_scenario(const char *name);
/* h_report appends a line to the scenario's report, printed under its result. */
void h_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fuzz.c */
void role_fuzz(void);
void role_fuzz_peer(void);
/* kill.c */
void role_killpeer_victim(void);
void role_killpeer_peer(void);
void role_freeze_victim(void);
void role_freeze_peer(void);
void role_srvkill_a(void);
void role_srvkill_b(void);

#endif
