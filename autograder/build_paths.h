/*
 * build_paths.h - where the tests of one build (autograder/build.mk) find
 * what the same build made: its guests and its minictr. build.mk force-
 * includes this header into the tests (-include) and defines
 *   VL_GUEST_DIR = vl_build_guest_dir    (OUT/guest)
 *   VL_MINICTR   = vl_build_minictr      (OUT/minictr)
 * with the strings in a small file it writes into OUT itself. As -D string
 * literals the paths would differ in every grading run (each has its own
 * work folder), and so would every test object: as variables, the test
 * objects are the same from run to run and ccache can reuse them.
 */
#ifndef VIRTLAB_BUILD_PATHS_H
#define VIRTLAB_BUILD_PATHS_H

extern const char vl_build_guest_dir[];
extern const char vl_build_minictr[];

#endif
