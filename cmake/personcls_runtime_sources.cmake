# The portable runtime core's sources, shared by the host build (CMakeLists.txt) and the
# bare-metal builds (mcu/CMakeLists.txt). Per-ISA MCU kernels are added by the MCU build.
get_filename_component(PERSONCLS_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
file(GLOB PERSONCLS_RUNTIME_CORE_SRC CONFIGURE_DEPENDS ${PERSONCLS_ROOT}/src/runtime/*.cc ${PERSONCLS_ROOT}/src/runtime/ref/*.cc)
