# cmake/install.cmake - `cmake --install BUILD [--prefix DIR]` (included from the
# top-level CMakeLists.txt):
#   bin/gantry                               the program
#   lib/libgantry.a                          the library
#   lib/gantry/libgantry_mpi.so              the MPI plugin (when MPI was found), loaded under mpirun
#   lib/gantry/libgantry_cuda.so             the CUDA plugin (when CUDA was found), loaded on --device cuda
#   include/gantry.h, include/gantry/*.h     its headers
#   lib/pkgconfig/gantry.pc                  pkg-config --static --cflags --libs gantry
#   share/gantry/fmnist_classifier.safetensors   the weights of the fmnist extractor
#   share/gantry/convert_inception.py        the FID Inception weights' converter
#   share/gantry/web/                        the lab's page (gantry lab), when scripts/setup.sh set it up
# (lib/ is GNUInstallDirs' CMAKE_INSTALL_LIBDIR: lib/<multiarch> for the /usr prefix.)
# and the ctest install/test_install, which installs into a temporary prefix and
# uses the installed program and library from elsewhere.
include(GNUInstallDirs)

# --- where the fmnist weights are looked for (src/metrics/fmnist.c) ---------------
# An installed program finds them next to itself (<exe>/../share/gantry/) in any
# prefix; these two are the fallbacks for a program elsewhere: the data directory
# of the configured prefix, then the assets/ of this source tree (a build tree
# outside the source tree). Only fmnist.c is compiled with them, so a new prefix
# recompiles one file.
set_property(SOURCE ${CMAKE_SOURCE_DIR}/src/metrics/fmnist.c APPEND PROPERTY COMPILE_DEFINITIONS
             GT_INSTALL_DATADIR="${CMAKE_INSTALL_FULL_DATADIR}/gantry"
             GT_SOURCE_ASSETS="${CMAKE_SOURCE_DIR}/assets")

# --- the lab's page (cli/cmd_lab.c): an installed program serves PREFIX/share/gantry/web, any
# other the web/ of the source tree it was built from.
set_property(SOURCE ${CMAKE_SOURCE_DIR}/cli/cmd_lab.c APPEND PROPERTY COMPILE_DEFINITIONS
             GT_SOURCE_WEB="${CMAKE_SOURCE_DIR}/web")

# --- the version: the program's (cli/main.c GANTRY_VERSION) -------------------------
file(STRINGS ${CMAKE_SOURCE_DIR}/cli/main.c GT_VERSION_LINE REGEX "^#define GANTRY_VERSION \"[^\"]+\"")
string(REGEX REPLACE "^#define GANTRY_VERSION \"([^\"]+)\".*" "\\1" GT_VERSION "${GT_VERSION_LINE}")
if(NOT GT_VERSION)
  message(FATAL_ERROR "cmake/install.cmake: no `#define GANTRY_VERSION \"x.y.z\"` in cli/main.c")
endif()

# --- gantry.pc ------------------------------------------------------------------------
# Paths relative to ${pcfiledir} (the installed lib/pkgconfig/) when the install
# directories are relative, so --prefix at install time and a moved prefix work.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(GT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH GT_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" GT_PC_UP "${GT_PC_UP}")
  set(GT_PC_PREFIX "\${pcfiledir}/${GT_PC_UP}")
endif()
foreach(d LIBDIR INCLUDEDIR DATADIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
    set(GT_PC_${d} "${CMAKE_INSTALL_${d}}")
  else()
    set(GT_PC_${d} "\${prefix}/${CMAKE_INSTALL_${d}}")
  endif()
endforeach()
# What a static libgantry.a needs: the pkg-config modules the build uses, then
# LAPACKE, OpenBLAS (found by find_library: -L<dir> -l<name>), OpenMP, libm.
set(GT_PC_REQUIRES "zlib libpng libjpeg libcjson")
set(GT_PC_LIBS_PRIVATE "")
set(GT_PC_LIBDIRS "")
foreach(lib ${LAPACKE_LIB} ${OPENBLAS_LIB})
  get_filename_component(dir "${lib}" DIRECTORY)
  get_filename_component(name "${lib}" NAME_WE)
  string(REGEX REPLACE "^lib" "" name "${name}")
  list(FIND CMAKE_C_IMPLICIT_LINK_DIRECTORIES "${dir}" implicit)
  list(FIND GT_PC_LIBDIRS "${dir}" seen)
  if(implicit EQUAL -1 AND seen EQUAL -1)
    list(APPEND GT_PC_LIBDIRS "${dir}")
    string(APPEND GT_PC_LIBS_PRIVATE " -L${dir}")
  endif()
  string(APPEND GT_PC_LIBS_PRIVATE " -l${name}")
endforeach()
# libmicrohttpd (src/serve) by name, not in Requires: its `pkg-config --static` list asks for
# gnutls's static dependencies, which linking the shared libmicrohttpd does not need
string(APPEND GT_PC_LIBS_PRIVATE " -lmicrohttpd ${OpenMP_C_FLAGS} -lm")
if(GANTRY_SANITIZE) # the library calls the AddressSanitizer and UndefinedBehaviorSanitizer runtimes
  string(APPEND GT_PC_LIBS_PRIVATE " -fsanitize=address,undefined")
endif()
string(STRIP "${GT_PC_LIBS_PRIVATE}" GT_PC_LIBS_PRIVATE)
configure_file(${CMAKE_SOURCE_DIR}/cmake/gantry.pc.in ${CMAKE_BINARY_DIR}/gantry.pc @ONLY)

# --- the install rules ------------------------------------------------------------
install(TARGETS gantry ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(TARGET gantry_cli)
  install(TARGETS gantry_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(TARGET gantry_mpi) # found by src/dist/dist.c at <bin>/../<libdir>/gantry/
  install(TARGETS gantry_mpi LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/gantry)
endif()
if(TARGET gantry_cuda) # found by src/backend/device.c at <bin>/../<libdir>/gantry/
  install(TARGETS gantry_cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/gantry)
endif()
install(FILES ${CMAKE_SOURCE_DIR}/include/gantry.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/gantry/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/gantry
        FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_BINARY_DIR}/gantry.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES ${CMAKE_SOURCE_DIR}/assets/fmnist_classifier.safetensors
        DESTINATION ${CMAKE_INSTALL_DATADIR}/gantry)
# the lab's page (when scripts/setup.sh has set it up), without the browser tests' packages
install(DIRECTORY ${CMAKE_SOURCE_DIR}/web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/gantry/web OPTIONAL
        PATTERN "playwright-core" EXCLUDE PATTERN ".bin" EXCLUDE PATTERN ".gantry-installed-lock" EXCLUDE)
# the Inception weights' converter, which gantry eval's message points to
install(PROGRAMS ${CMAKE_SOURCE_DIR}/scripts/convert_inception.py DESTINATION ${CMAKE_INSTALL_DATADIR}/gantry)

# --- the test: install into a temporary prefix, use it from elsewhere ---------------
# Only when every install directory is relative (an absolute one would be written
# outside the temporary prefix).
set(GT_INSTALL_RELATIVE ON)
foreach(d BINDIR LIBDIR INCLUDEDIR DATADIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
    set(GT_INSTALL_RELATIVE OFF)
  endif()
endforeach()
if(TARGET gantry_cli AND GT_INSTALL_RELATIVE)
  add_test(NAME install/test_install
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/install/test_install.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(install/test_install PROPERTIES LABELS install TIMEOUT 300 ENVIRONMENT
    "OMP_NUM_THREADS=2;OMP_WAIT_POLICY=passive;GT_CMAKE=${CMAKE_COMMAND};GT_CC=${CMAKE_C_COMPILER};GT_PKG_CONFIG=${PKG_CONFIG_EXECUTABLE};GT_BINDIR=${CMAKE_INSTALL_BINDIR};GT_LIBDIR=${CMAKE_INSTALL_LIBDIR};GT_INCLUDEDIR=${CMAKE_INSTALL_INCLUDEDIR};GT_DATADIR=${CMAKE_INSTALL_DATADIR};GT_VERSION=${GT_VERSION}")
endif()
