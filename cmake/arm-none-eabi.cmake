# CMake toolchain file for bare-metal Arm Cortex-M with Debian's gcc-arm-none-eabi
# (newlib-nano, libstdc++-arm-none-eabi-newlib).
#   cmake -S mcu -B build-an386 -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DPERSONCLS_MCU_BOARD=an386
# The CPU flags (-mcpu, float ABI) come from the board (mcu/boards/<board>.cmake), not from
# here, so one toolchain file serves every Cortex-M.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

find_program(PERSONCLS_ARM_GCC arm-none-eabi-gcc REQUIRED)
find_program(PERSONCLS_ARM_GXX arm-none-eabi-g++ REQUIRED)
set(CMAKE_C_COMPILER ${PERSONCLS_ARM_GCC})
set(CMAKE_CXX_COMPILER ${PERSONCLS_ARM_GXX})
set(CMAKE_ASM_COMPILER ${PERSONCLS_ARM_GCC})
find_program(CMAKE_OBJCOPY arm-none-eabi-objcopy)
find_program(CMAKE_SIZE arm-none-eabi-size)

# No operating system to link test programs against.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# Host programs (flatc) from the host; headers and libraries only from the toolchain and
# the paths the project names.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
