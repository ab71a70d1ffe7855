# The personcls runtime core for one of QEMU's Arm boards, as CMake targets; included by
# mcu/CMakeLists.txt and by the firmware example (examples/cortex-m) when built alone.
# Needs PERSONCLS_ROOT (the checkout) and a project with C, CXX and ASM enabled, built
# with cmake/arm-none-eabi.cmake. Defines:
#   personcls_mcu          the runtime core (the very files the PC build compiles) + the
#                          board ISA's kernels, a static library
#   personcls_mcu_harness  start-up, semihosting, SysTick instruction counter, stack
#                          high-water (mcu/harness); on real hardware use your BSP instead
#   personcls_mcu_executable(name sources...)  an .elf linked with both (+ name.elf.size)
set(PERSONCLS_MCU_BOARD an386 CACHE STRING "an386 (Cortex-M4) or an547 (Cortex-M55)")
include(${PERSONCLS_ROOT}/mcu/boards/${PERSONCLS_MCU_BOARD}.cmake)

if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "" FORCE)
endif()
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_C_STANDARD 11)
set(CMAKE_EXECUTABLE_SUFFIX .elf)

# -O2: the figures in bench/RESULTS.md are for this. No exceptions, RTTI or thread-safe
# statics in the firmware; sections for the linker to drop what is unused.
add_compile_options(${PERSONCLS_MCU_CPU_FLAGS} -O2 -g -Wall -Wextra -ffunction-sections -fdata-sections -ffp-contract=off
                    $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions> $<$<COMPILE_LANGUAGE:CXX>:-fno-rtti>
                    $<$<COMPILE_LANGUAGE:CXX>:-fno-threadsafe-statics> $<$<COMPILE_LANGUAGE:CXX>:-fno-use-cxa-atexit>)
add_link_options(${PERSONCLS_MCU_CPU_FLAGS} -nostartfiles --specs=nano.specs -Wl,--gc-sections
                 -L${PERSONCLS_ROOT}/mcu/boards -T${PERSONCLS_ROOT}/mcu/boards/${PERSONCLS_MCU_BOARD}.ld)

# The TFLite schema, compiled by the host's flatc (header-only reading code).
find_program(FLATC flatc REQUIRED)
# The host's header-only flatbuffers library, exposed on its own (not all of /usr/include,
# whose glibc headers must not meet newlib's).
find_path(PERSONCLS_FLATBUFFERS_DIR flatbuffers/flatbuffers.h PATHS /usr/include /usr/local/include NO_CMAKE_FIND_ROOT_PATH REQUIRED)
set(PERSONCLS_FLATBUFFERS_INCLUDE ${CMAKE_CURRENT_BINARY_DIR}/flatbuffers-include)
file(MAKE_DIRECTORY ${PERSONCLS_FLATBUFFERS_INCLUDE})
file(CREATE_LINK ${PERSONCLS_FLATBUFFERS_DIR}/flatbuffers ${PERSONCLS_FLATBUFFERS_INCLUDE}/flatbuffers SYMBOLIC)
set(TFLITE_GEN_DIR ${CMAKE_CURRENT_BINARY_DIR}/generated/formats/tflite)
add_custom_command(
  OUTPUT ${TFLITE_GEN_DIR}/schema_generated.h
  COMMAND ${CMAKE_COMMAND} -E make_directory ${TFLITE_GEN_DIR}
  COMMAND ${FLATC} --cpp --scoped-enums -o ${TFLITE_GEN_DIR} ${PERSONCLS_ROOT}/src/formats/tflite/schema.fbs
  DEPENDS ${PERSONCLS_ROOT}/src/formats/tflite/schema.fbs
  COMMENT "flatc: TFLite schema")
add_custom_target(personcls_mcu_schema DEPENDS ${TFLITE_GEN_DIR}/schema_generated.h)

# ---- the runtime core: the very files the PC build compiles ---------------------------
include(${PERSONCLS_ROOT}/cmake/personcls_runtime_sources.cmake)
# The ISA's kernels (runtime/mcu_kernels.cc picks the family from the compiler's
# __ARM_FEATURE_MVE / __ARM_FEATURE_DSP).
if(PERSONCLS_MCU_BOARD STREQUAL "an547")
  set(PERSONCLS_MCU_ISA arm_mve)
else()
  set(PERSONCLS_MCU_ISA arm_dsp)
endif()
file(GLOB PERSONCLS_MCU_KERNEL_SRC CONFIGURE_DEPENDS ${PERSONCLS_ROOT}/src/runtime/${PERSONCLS_MCU_ISA}/*.cc
     ${PERSONCLS_ROOT}/src/runtime/${PERSONCLS_MCU_ISA}/*.S)
add_library(personcls_mcu STATIC ${PERSONCLS_RUNTIME_CORE_SRC} ${PERSONCLS_MCU_KERNEL_SRC} ${PERSONCLS_ROOT}/src/core/types.cc)
add_dependencies(personcls_mcu personcls_mcu_schema)
target_include_directories(personcls_mcu PUBLIC ${PERSONCLS_ROOT}/include ${PERSONCLS_ROOT}/src ${CMAKE_CURRENT_BINARY_DIR}/generated)
target_include_directories(personcls_mcu SYSTEM PRIVATE ${PERSONCLS_FLATBUFFERS_INCLUDE})
target_compile_definitions(personcls_mcu PUBLIC PERSONCLS_MCU_KERNELS=1)

# ---- the harness: start-up, semihosting, instruction counter -------------------------
add_library(personcls_mcu_harness STATIC ${PERSONCLS_ROOT}/mcu/harness/harness.c ${PERSONCLS_ROOT}/mcu/harness/syscalls.c)
target_include_directories(personcls_mcu_harness PUBLIC ${PERSONCLS_ROOT}/mcu/harness)
target_compile_definitions(personcls_mcu_harness PUBLIC PERSONCLS_MCU_JOB_ADDR=${PERSONCLS_MCU_JOB_ADDR}
                                                        PERSONCLS_MCU_SYSTICK_HZ=${PERSONCLS_MCU_SYSTICK_HZ})

function(personcls_mcu_executable name)
  add_executable(${name} ${ARGN})
  # The harness's _sbrk and start-up must win over anything in the C library.
  target_link_libraries(${name} PRIVATE personcls_mcu -Wl,--whole-archive personcls_mcu_harness -Wl,--no-whole-archive)
  add_custom_command(TARGET ${name} POST_BUILD COMMAND ${CMAKE_SIZE} $<TARGET_FILE:${name}> > $<TARGET_FILE:${name}>.size)
endfunction()

