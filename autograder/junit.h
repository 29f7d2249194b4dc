/*
 * junit.h - the result model as JUnit XML (--junit FILE), the test report
 * that CI servers (Jenkins, GitLab, GitHub checks) display.
 *
 * JUnit never specified its XML; the de facto schema is the one of Ant's
 * XMLJUnitResultFormatter as written down for Jenkins (junit-10.xsd of the
 * jenkinsci/xunit-plugin). What we learned there: <testsuites> holds
 * <testsuite> elements (required: tests; optional: name, failures, errors,
 * skipped, time, timestamp, ...), which hold <properties> of
 * <property name value>, <testcase> (required: name; optional: classname,
 * time, ...) and <system-out>/<system-err>; a testcase holds <failure> (an
 * assertion did not hold), <error> (the test could not finish) or
 * <skipped>, each with optional message and type attributes and text.
 * <testcase> takes no <properties> there, so per-test points go into the
 * suite's properties.
 *
 * What we write, one <testsuite> per lab:
 *   <testsuites name="vlab-grade" tests failures errors time>
 *     <testsuite name="01-kvm-basics" tests failures errors skipped time
 *                timestamp>
 *       <properties> title, outcome, points, max_points, the SHA-256 of
 *         tests and rubric, fix_first, protected files, the run's metadata
 *         (grader_version, submission, submission_commit, tools,
 *         environment, started), then "<test id>.points" = "2/3" </properties>
 *       <testcase classname="01-kvm-basics" name="suite::test" time>
 *         <failure message type="failed|flaky">  an assertion failed
 *         <error message type="crashed|timed out|not built|did not run">
 *         <skipped message>  an environment skip
 *       </testcase>
 *       <system-out> the test binary's output (capped) </system-out>
 *       <system-err> the lab's message (compiler errors, ...) </system-err>
 *     </testsuite>
 *   </testsuites>
 * A lab that did not run and has no test gets one <testcase name="(grading)">
 * with an <error>, so CI shows it red. autograder/tests/formats/junit.xsd
 * checks this shape (stricter than junit-10.xsd, and valid under it).
 */
#ifndef VG_JUNIT_H
#define VG_JUNIT_H

#include <stdio.h>

#include "grade.h"

/* Write the report to out (an open stream). */
void vg_junit_print(FILE *out, const struct vg_result *result);
/* Write it to path. */
int vg_junit_write(const struct vg_result *result, const char *path);

#endif
