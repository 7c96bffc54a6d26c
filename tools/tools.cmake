# tools/: programs built with libgantry that are not part of the `gantry` CLI
# (included from the top-level CMakeLists.txt: include(tools/tools.cmake)).
#   train_fmnist_classifier  trains the Fashion-MNIST domain evaluator and writes
#                            assets/fmnist_classifier.safetensors
file(GLOB GANTRY_TOOLS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tools/*.c)
foreach(tool ${GANTRY_TOOLS})
  get_filename_component(name ${tool} NAME_WE)
  add_executable(${name} ${tool})
  target_link_libraries(${name} gantry)
endforeach()
