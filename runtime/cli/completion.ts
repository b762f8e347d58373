/**
 * `berth completion bash|zsh`: a shell completion script for the commands, their flags and the
 * resource types, generated from the command table (so it cannot fall behind it).
 *
 *   source <(berth completion bash)        # or: berth completion bash > /etc/bash_completion.d/berth
 *   source <(berth completion zsh)
 */
import type { Command } from "./args.ts";

export function completionScript(shell: string, commands: Record<string, Command>, types: string[]): string {
  const names = Object.keys(commands).sort();
  const cases = names
    .map((n) => `    ${n}) flags="${commands[n].flags.map((f) => `--${f.name}${f.short ? ` -${f.short}` : ""}`).join(" ")}" ;;`)
    .join("\n");
  const bash = `# berth completion for bash (berth completion bash)
_berth() {
  local cur cmd flags
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${names.join(" ")} help version" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  elif [ "$COMP_CWORD" -eq 2 ] && [[ " get describe delete edit scale label annotate " == *" $cmd "* ]]; then
    COMPREPLY=( $(compgen -W "${types.join(" ")}" -- "$cur") )
  fi
}
complete -F _berth berth
`;
  if (shell === "bash") return bash;
  if (shell === "zsh") return `#compdef berth\n# berth completion for zsh (berth completion zsh): bash completion through bashcompinit\nautoload -U +X bashcompinit && bashcompinit\n${bash}`;
  throw new Error(`unsupported shell ${JSON.stringify(shell)}: bash or zsh`);
}
