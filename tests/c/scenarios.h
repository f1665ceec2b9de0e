/* scenarios.h: the table of crvtest scenarios (scenarios.c). */
#ifndef CRV_TEST_SCENARIOS_H
#define CRV_TEST_SCENARIOS_H

typedef struct {
    const char *name;
    void (*fn)(void);
} role_t;

typedef struct {
    const char *name;
    const char *doc;
    int nroles;
    role_t roles[4];
    int timeout_s;          /* per role; 60 when 0 */
    const char *expect_fail; /* canary: the role must fail, its output containing this */
} scenario_t;

extern const scenario_t scenarios[];
extern const scenario_t leak_canary;
const scenario_t *find_scenario(const char *name);
/* h_report appends a line to the scenario's report, printed under its result. */
void h_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
